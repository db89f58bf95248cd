"""``perflab site build``: the course as a static website, from the saved notebooks.

The website is what a learner reads before installing anything and what a teacher links
from a workshop page. It is built with Jupyter Book 1 (Sphinx, sphinx-book-theme and
MyST-NB) from the notebooks exactly as saved: nothing is re-executed, so the site shows
the outputs that nbval checks in CI.

The builder stages a copy of the course in ``<out>.src/``: the notebooks, exercises and
solutions, ``docs/glossary.md``, the Jupyter Book config ``site/_config.yml``, and
two files it writes from the course outline (``perflab.course.outline``, read from the
notebooks' own metadata):

* ``_toc.yml``: the welcome notebook, then every lesson in outline order (one part per
  level), the exercises in the same order, the reference pages (outline, glossary, and
  any markdown file under ``notebooks/`` that lessons link to, such as the guide), and
  the solutions last, out of the way;
* ``outline.md``: one section per lesson with its level, time, questions, objectives and
  exercise.

So the table of contents cannot drift from the outline: it is made from it on every build.
Why Jupyter Book 1 and not Jupyter Book 2 (``mystmd``): MyST's HTML themes are not in the
CLI; ``myst build --html`` downloads its theme from the web at build time, and this
machine (like many classrooms) has no internet beyond package registries.
docs/website.md says how to build and publish the site.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.course.outline import Outline

__all__ = ["build_site", "outline_page", "register", "stage", "toc"]

#: Where the website goes, relative to the folder the command runs in.
DEFAULT_OUT = Path("_build") / "site"

#: The glossary page, from the curriculum root (docs/ in a checkout).
GLOSSARY = Path("docs") / "glossary.md"

#: The Jupyter Book config, from the curriculum root (site/ in a checkout).
CONFIG = Path("site") / "_config.yml"

_PART_CAPTIONS = {
    "beginner": "Beginner lessons",
    "intermediate": "Intermediate lessons",
    "advanced": "Advanced lessons",
}


def register(subparsers: Any) -> None:
    """Add ``perflab site build``."""
    parser = subparsers.add_parser(
        "site",
        help="build the course as a static website",
        description="Build the course as a static website (Jupyter Book) from the saved "
        "notebooks, without running them.",
    )
    verbs = parser.add_subparsers(title="site verbs", dest="site_verb", metavar="VERB")
    build = verbs.add_parser(
        "build",
        help="build the website into _build/site",
        description="Build the website from the notebooks as saved (nothing is re-run). "
        "Open OUT/index.html in a browser, or publish OUT (docs/website.md).",
    )
    build.add_argument(
        "--root",
        type=Path,
        default=None,
        help="the curriculum to build (default: this checkout, or the packaged course)",
    )
    build.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})"
    )
    build.add_argument(
        "--strict",
        action="store_true",
        help="fail on any Sphinx warning (a broken link, a missing page)",
    )
    build.set_defaults(func=_run_build)
    parser.set_defaults(func=lambda _args: parser.print_help() or 2)


def _run_build(args: argparse.Namespace) -> int:
    out = build_site(args.root, args.out, strict=args.strict)
    print(f"website built: {out / 'index.html'}")
    return 0


# ------------------------------------------------------------------ from the outline


def _doc(path: str) -> str:
    """A notebook path as the TOC names it: no suffix (``notebooks/beginner/01_x``)."""
    return path.rsplit(".", 1)[0]


def _solutions(outline: Outline) -> list[str]:
    order = {lesson.id: lesson.order for lesson in outline.lessons}
    found = [e for e in outline.exercises.values() if e.role == "solution"]
    return [e.path for e in sorted(found, key=lambda e: (order.get(e.lesson, 0), e.path))]


def toc(outline: Outline, *, glossary: bool = True, pages: Sequence[str] = ()) -> dict[str, Any]:
    """The Jupyter Book table of contents (``_toc.yml`` as data), in outline order.

    Args:
        outline: the course outline.
        glossary: list ``docs/glossary`` among the reference pages.
        pages: more reference pages (paths of markdown files from the curriculum root),
            e.g. the guide a lesson links to in ``notebooks/intermediate/data/``.

    Returns:
        A ``jb-book`` TOC: the welcome notebook as the root page, one part per level,
        then exercises, reference pages and solutions.
    """
    lessons = [lesson for lesson in outline.lessons if lesson.level != "welcome"]
    (welcome,) = [lesson for lesson in outline.lessons if lesson.level == "welcome"]
    parts: list[dict[str, Any]] = []
    for level, caption in _PART_CAPTIONS.items():
        chapters = [{"file": _doc(les.path)} for les in lessons if les.level == level]
        if chapters:
            parts.append({"caption": caption, "chapters": chapters})
    exercises = [{"file": _doc(les.exercise)} for les in lessons if les.exercise]
    if exercises:
        parts.append({"caption": "Exercises", "chapters": exercises})
    reference = [{"file": "outline"}] + ([{"file": _doc(GLOSSARY.as_posix())}] if glossary else [])
    reference += [{"file": _doc(page)} for page in pages]
    parts.append({"caption": "Reference", "chapters": reference})
    solutions = [{"file": _doc(path)} for path in _solutions(outline)]
    if solutions:
        parts.append({"caption": "Solutions (try the exercise first)", "chapters": solutions})
    return {"format": "jb-book", "root": _doc(welcome.path), "parts": parts}


def _minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest:02d} min"


def outline_page(outline: Outline) -> str:
    """The outline as a MyST page: each lesson, in order, with its time and objectives."""
    lines = [
        "# Course outline",
        "",
        "Every lesson in order, with the time it takes (teaching + its exercise), the",
        "questions it answers and what you will be able to do after it. This page is",
        "generated from the notebooks' own metadata, like the lessons' headers.",
    ]
    for lesson in outline.lessons:
        link = f"[{lesson.label}]({lesson.path})"
        time = _minutes(lesson.teaching_min)
        if lesson.exercise_min:
            time += f" + {_minutes(lesson.exercise_min)} of exercises"
        lines += ["", f"## {link}", "", f"*{lesson.level}*, {time}."]
        if lesson.questions:
            lines += ["", "Questions:", ""] + [f"- {q}" for q in lesson.questions]
        if lesson.objectives:
            lines += ["", "You will be able to:", ""] + [f"- {o}" for o in lesson.objectives]
        if lesson.exercise:
            lines += ["", f"Exercise: [{Path(lesson.exercise).stem}]({lesson.exercise})"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ staging and building


def stage(root: Path, where: Path, outline: Outline) -> Path:
    """Copy the course into ``where`` and write its TOC, config and outline page.

    The layout mirrors the curriculum (``notebooks/``, ``exercises/``, ``solutions/``,
    ``docs/glossary.md``), so the notebooks' relative links work unchanged.

    Returns:
        ``where``, the Jupyter Book source folder.
    """
    import shutil

    import yaml

    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.sqlite3*")
    for folder in ("notebooks", "exercises", "solutions"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, where / folder, ignore=ignore)
    has_glossary = (root / GLOSSARY).is_file()
    if has_glossary:
        (where / GLOSSARY).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / GLOSSARY, where / GLOSSARY)
    shutil.copy2(root / CONFIG, where / "_config.yml")
    if (root / CONFIG.parent / "_ext").is_dir():  # the config's local Sphinx extension
        shutil.copytree(root / CONFIG.parent / "_ext", where / "_ext", ignore=ignore)
    pages = sorted(
        path.relative_to(where).as_posix() for path in (where / "notebooks").rglob("*.md")
    )
    contents = toc(outline, glossary=has_glossary, pages=pages)
    (where / "_toc.yml").write_text(yaml.safe_dump(contents, sort_keys=False), encoding="utf-8")
    (where / "outline.md").write_text(outline_page(outline), encoding="utf-8")
    return where


def build_site(root: Path | None = None, out: Path = DEFAULT_OUT, *, strict: bool = False) -> Path:
    """Build the website of the course at ``root`` into ``out`` (replacing it).

    Args:
        root: the curriculum root (default: this checkout, or the packaged course).
        out: the output folder; ``out/index.html`` opens the welcome page.
        strict: fail on any Sphinx warning.

    Returns:
        ``out``, resolved.

    Raises:
        PerflabError: Jupyter Book is not installed, the outline is broken
            (``OutlineError``), or the build failed (its log's last lines are shown).
    """
    import importlib.util
    import shutil
    import subprocess
    import sys

    from perflab.course.outline import load_outline
    from perflab.errors import PerflabError

    if importlib.util.find_spec("jupyter_book") is None:
        raise PerflabError(
            "the website needs Jupyter Book 1: pip install 'jupyter-book>=1.0.4,<2' "
            "(or pip install -e '.[site]' in a checkout)"
        )
    outline = load_outline(root)
    if not (outline.root / CONFIG).is_file():
        raise PerflabError(
            f"no {CONFIG} in {outline.root}: the website is built from a checkout of the "
            "course (git clone, then perflab site build)"
        )
    out = out.resolve()
    source = stage(outline.root, out.with_name(out.name + ".src"), outline)
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(source),
        "--builder",
        "html",
        "--all",
        *(["-W", "--keep-going"] if strict else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    log = done.stdout + done.stderr
    (source / "build.log").write_text(log, encoding="utf-8")
    html = source / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").is_file():
        print("\n".join(log.strip().splitlines()[-15:]), file=sys.stderr)
        raise PerflabError(
            f"the website build failed (exit {done.returncode}); "
            f"its last lines are above, the full log is {source / 'build.log'}"
        )
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(html, out)
    return out
