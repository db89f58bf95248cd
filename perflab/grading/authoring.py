"""Authoring: generate learner notebooks (exercises/) from solved ones (solutions/).

One source per exercise: the solution. In its code cells the learner's part sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; the generated exercise has that part
replaced by a TODO that raises ``NotImplementedError``, or by the region's ``#>`` lines
when it has any (``#> predicted_hit_rate = None`` becomes ``predicted_hit_rate = None``:
a prediction prompt that should not raise). In markdown cells the region becomes
"*Your answer here.*". Outputs and execution counts are stripped, and the manifest the
grader needs is stored in the exercise's metadata.

Command line::

    python -m perflab.grading.authoring            # regenerate exercises/ from solutions/
    python -m perflab.grading.authoring --check    # exit 1 if exercises/ is out of step
    python -m perflab.grading.authoring --execute  # also re-run solutions, saving outputs
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from perflab.grading.notebook import (
    cell_tag,
    manifest_from_notebook,
    read_notebook,
    writes_notebook,
)

__all__ = ["BEGIN", "END", "execute_solution", "make_exercise", "out_of_sync", "sync"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_KEEP_CELL_META = ("perflab", "tags")


def _strip_region(source: str, exercise: str, markdown: bool) -> str:
    lines = source.split("\n")
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in lines:
        stripped = line.strip()
        if region is None and stripped.startswith(BEGIN):
            region, indent = [], line[: len(line) - len(line.lstrip())]
            continue
        if region is not None and stripped.startswith(END):
            keep = [l for l in region if l.strip().startswith("#>")]
            if markdown:
                out.append(indent + "*Your answer here.*")
            elif keep:
                out.extend(re.sub(r"^(\s*)#> ?", r"\1", l) for l in keep)
            else:
                out.append(f"{indent}# TODO: your code here")
                label = f"exercise {exercise}: " if exercise else ""
                out.append(
                    f'{indent}raise NotImplementedError("{label}replace this line with your code")'
                )
            region = None
            continue
        if region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise ValueError(f"{BEGIN!r} without {END!r} in cell:\n{source[:200]}")
    return "\n".join(out)


def make_exercise(solution: Any) -> Any:
    """The learner's notebook generated from a solution notebook (an nbformat node).

    Raises:
        ValueError: a BEGIN marker without its END.
    """
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        tag = cell_tag(cell)
        exercise = tag.exercise if tag is not None else ""
        if BEGIN in cell.source:
            cell.source = _strip_region(cell.source, exercise, cell.cell_type == "markdown")
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in _KEEP_CELL_META}
        course = cell.metadata.get("perflab", {})
        if isinstance(course, dict) and "exercise_source" in course:
            # a course header/footer (perflab.course.generate): the exercise's own wording
            cell.source = course["exercise_source"]
            cell.metadata["perflab"] = {k: v for k, v in course.items() if k != "exercise_source"}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("id", None)
    meta = dict(nb.metadata.get("perflab", {}))
    meta["manifest"] = manifest_from_notebook(solution).as_dict()
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    nb.metadata["perflab"] = meta
    nb.metadata.get("language_info", {}).pop("version", None)
    return nb


def _render(nb: Any) -> str:
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):  # stable cell ids, so regenerating is a no-op
        cell["id"] = f"cell-{i}"
    nb.nbformat, nb.nbformat_minor = 4, 5
    return writes_notebook(nb) + "\n"


def _pairs(solutions: Path, exercises: Path) -> list[tuple[Path, Path]]:
    return [(s, exercises / s.name) for s in sorted(solutions.glob("*.ipynb"))]


def out_of_sync(solutions: Path, exercises: Path) -> list[Path]:
    """The exercise notebooks that differ from what their solutions generate (or are missing)."""
    stale = []
    for sol, ex in _pairs(solutions, exercises):
        want = _render(make_exercise(read_notebook(sol)))
        if not ex.exists() or ex.read_text(encoding="utf-8") != want:
            stale.append(ex)
    return stale


def sync(solutions: Path, exercises: Path) -> list[Path]:
    """Regenerate every out-of-step exercise; return the files written."""
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    for ex in out_of_sync(solutions, exercises):
        sol = solutions / ex.name
        ex.write_text(_render(make_exercise(read_notebook(sol))), encoding="utf-8")
        written.append(ex)
    return written


def execute_solution(path: Path, timeout_s: float = 300.0) -> None:
    """Run a solution top to bottom in a fresh python3 kernel and save it with its outputs.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell failed (a solution must not).
    """
    from nbclient import NotebookClient

    nb = read_notebook(path)
    with tempfile.TemporaryDirectory(prefix="perflab-solution-") as cwd:
        NotebookClient(
            nb,
            timeout=int(timeout_s),
            kernel_name="python3",
            resources={"metadata": {"path": cwd}},
            record_timing=False,
        ).execute()
    nb.metadata.get("language_info", {}).pop("version", None)
    path.write_text(_render(nb), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m perflab.grading.authoring [--check] [--execute]``."""
    parser = argparse.ArgumentParser(
        prog="python -m perflab.grading.authoring",
        description="Generate exercises/ from solutions/.",
    )
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--exercises", type=Path, default=Path("exercises"))
    parser.add_argument(
        "--check",
        action="store_true",
        help="only report exercises that are out of step (exit 1 if any)",
    )
    parser.add_argument(
        "--execute", action="store_true", help="first re-run each solution and save its outputs"
    )
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        print(f"no solutions folder at {args.solutions}", file=sys.stderr)
        return 2
    if args.check:
        stale = out_of_sync(args.solutions, args.exercises)
        for path in stale:
            print(f"out of step: {path} (run python -m perflab.grading.authoring)")
        return 1 if stale else 0
    if args.execute:
        for sol in sorted(args.solutions.glob("*.ipynb")):
            print(f"executing {sol}")
            execute_solution(sol)
    for path in sync(args.solutions, args.exercises):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
