"""Write the generated cells of every notebook from the outline, or check they are current.

Command line (from the curriculum root, e.g. the repository)::

    python -m perflab.course.generate          # rewrite headers, footers, the welcome table
    python -m perflab.course.generate --check  # exit 1 and list the notebooks out of step

A generated cell is a markdown cell whose ``metadata.perflab.generated`` is ``"header"``,
``"footer"`` or ``"outline"``. The generator finds its cells by that tag, replaces only
their text, and leaves every other cell alone, so running it twice changes nothing. A
missing header goes first in a lesson (it holds the title) and second in an exercise (after
the exercise's own title cell); a missing footer goes last. An exercise (and its solution)
ends with a generated code cell, ``"check"``, that checks the notebook it is in
(:func:`perflab.grading.check_my_work`).

Solutions are the source of the exercises (perflab.grading.authoring makes one from the
other), so their generated cells also store the exercise's wording in
``metadata.perflab.exercise_source``; the generator then regenerates exercises/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from perflab.course import cells
from perflab.course.outline import Outline, OutlineError, load_outline

__all__ = ["README_BEGIN", "README_END", "apply", "main", "out_of_step", "readme_text", "write"]

#: The README lines between which the generator keeps the table of times per level.
README_BEGIN = "<!-- course-times:"
README_END = "<!-- /course-times -->"
_README_HEAD = "| level | lessons | time |\n| --- | --- | --- |"


def readme_text(outline: Outline, text: str) -> str:
    """The README with its table of times per level rewritten from the outline.

    A README without the two marker lines is returned unchanged.
    """
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        return text
    head_end = text.index("\n", start) + 1
    table = _README_HEAD + "\n" + cells.readme_times(outline) + "\n"
    return text[:head_end] + table + text[end:]


def _find(nb: Any, kind: str) -> int | None:
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("perflab", {})
        if isinstance(meta, dict) and meta.get("generated") == kind:
            return index
    return None


def _put(
    nb: Any, kind: str, source: str, missing_at: int, extra: dict[str, Any], code: bool = False
) -> None:
    """Set the text (and metadata) of the cell of this kind, inserting it when missing.

    A missing cell with ``missing_at`` -1 goes last, or before an exercise's check cell.
    """
    import nbformat

    meta = {"generated": kind, **extra}
    index = _find(nb, kind)
    if index is None:
        new = nbformat.v4.new_code_cell if code else nbformat.v4.new_markdown_cell
        cell = new(source)  # type: ignore[no-untyped-call]
        cell.metadata = {"perflab": meta}
        cell["id"] = f"perflab-{kind}"
        last = _find(nb, "check")
        end = len(nb.cells) if last is None else last
        nb.cells.insert(missing_at if missing_at >= 0 else end, cell)
        return
    cell = nb.cells[index]
    cell.source = source
    cell.metadata["perflab"] = meta


def _drop_title(nb: Any) -> None:
    """Before a lesson's first header: take the ``# title`` line off its first cell.

    The header carries the title (from the metadata), so the hand-written one would be a
    second copy. Only a first markdown cell's leading level-1 heading is removed.
    """
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return
    lines = nb.cells[0].source.split("\n")
    if lines and lines[0].startswith("# "):
        nb.cells[0].source = "\n".join(lines[1:]).lstrip("\n")


def apply(outline: Outline, path: str, nb: Any) -> None:
    """Put the generated cells the outline wants into one notebook (path from the root).

    Raises:
        KeyError: the notebook is neither a lesson nor an exercise or solution.
    """
    lessons = {les.path: les for les in outline.lessons}
    if path in lessons:
        lesson = lessons[path]
        if _find(nb, "header") is None:
            _drop_title(nb)
        _put(nb, "header", cells.lesson_header(outline, lesson), 0, {})
        if lesson.level == "welcome":
            _put(nb, "outline", cells.welcome_table(outline), -1, {})
        _put(nb, "footer", cells.lesson_footer(outline, lesson), -1, {})
        return
    entry = outline.exercises[path]
    for kind, render, at in (
        ("header", cells.exercise_header, 1),
        ("footer", cells.exercise_footer, -1),
    ):
        extra = {}
        if entry.role == "solution":
            extra["exercise_source"] = render(outline, entry, "exercise")
        _put(nb, kind, render(outline, entry, entry.role), at, extra)
    _put(nb, "check", cells.exercise_check(entry), -1, {}, code=True)  # checks this notebook


def _complete(root: Path | None) -> Outline:
    """The outline, refusing one whose lessons name exercises or solutions that are missing."""
    outline = load_outline(root)
    missing = outline.missing_files()
    if missing:
        raise OutlineError(f"the outline names notebooks that do not exist: {', '.join(missing)}")
    return outline


def _targets(outline: Outline) -> list[str]:
    solutions = [p for p, e in outline.exercises.items() if e.role == "solution"]
    return [les.path for les in outline.lessons] + sorted(solutions)


def _render(outline: Outline, path: str) -> tuple[str, str]:
    """The notebook's text now, and the text with its generated cells current."""
    import nbformat

    from perflab.grading.notebook import writes_notebook

    file = outline.root / path
    text = file.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    apply(outline, path, nb)
    return text, writes_notebook(nb) + "\n"


def out_of_step(root: Path | None = None) -> list[Path]:
    """The notebooks whose generated cells differ from what the outline generates.

    Exercises count too: one is out of step when it differs from what its solution
    generates (perflab.grading.authoring), which includes its header and footer.
    """
    from perflab.grading.authoring import out_of_sync

    outline = _complete(root)
    stale = []
    for path in _targets(outline):
        before, after = _render(outline, path)
        if before != after:
            stale.append(outline.root / path)
    readme = outline.root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if readme_text(outline, text) != text:
            stale.append(readme)
    mine = {outline.root / p for p, e in outline.exercises.items() if e.role == "exercise"}
    exercises = out_of_sync(outline.root / "solutions", outline.root / "exercises")
    return stale + [p for p in exercises if p in mine]


def _sync_exercises(outline: Outline) -> list[Path]:
    """Regenerate the outline's out-of-step exercises from their solutions (orphans untouched)."""
    from perflab.grading.authoring import _render as render_exercise
    from perflab.grading.authoring import make_exercise, out_of_sync
    from perflab.grading.notebook import read_notebook

    written = []
    for path in out_of_sync(outline.root / "solutions", outline.root / "exercises"):
        rel = path.relative_to(outline.root).as_posix()
        solution = outline.root / "solutions" / path.name
        if rel not in outline.exercises or not solution.is_file():
            continue
        path.write_text(render_exercise(make_exercise(read_notebook(solution))), encoding="utf-8")
        written.append(path)
    return written


def write(root: Path | None = None) -> list[Path]:
    """Rewrite the generated cells wherever they are out of step; return the files written."""
    outline = _complete(root)
    written = []
    for path in _targets(outline):
        before, after = _render(outline, path)
        if before != after:
            (outline.root / path).write_text(after, encoding="utf-8")
            written.append(outline.root / path)
    readme = outline.root / "README.md"
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if readme_text(outline, text) != text:
            readme.write_text(readme_text(outline, text), encoding="utf-8")
            written.append(readme)
    return written + _sync_exercises(outline)


def main(argv: list[str] | None = None) -> int:
    """``python -m perflab.course.generate [--root DIR] [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m perflab.course.generate",
        description="Write the course's generated cells (headers, footers, the welcome "
        "table) from the notebooks' outline metadata.",
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="the curriculum root (default: this checkout)"
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook is out of step"
    )
    args = parser.parse_args(argv)
    try:
        for orphan in load_outline(args.root).orphans:
            print(f"skipped {orphan}: its lesson is not in the outline yet", file=sys.stderr)
        if args.check:
            stale = out_of_step(args.root)
            for path in stale:
                print(f"out of step: {path} (run python -m perflab.course.generate)")
            return 1 if stale else 0
        for path in write(args.root):
            print(f"wrote {path}")
    except OutlineError as exc:
        print(f"course outline: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
