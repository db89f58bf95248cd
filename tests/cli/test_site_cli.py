"""`perflab site build`: the TOC and outline page come from the outline; the build runs nothing."""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest

from perflab.cli import main
from perflab.cli.site import build_site, outline_page, toc
from perflab.course.outline import load_outline

REPO = Path(__file__).resolve().parents[2]


def _toc_files(data: dict[str, Any]) -> list[str]:
    return [data["root"]] + [c["file"] for part in data["parts"] for c in part["chapters"]]


# ------------------------------------------------------------------ the real course


def test_toc_lists_the_lessons_in_outline_order_then_the_exercises() -> None:
    """The real course's TOC is the outline's order, not the files' (05b sits before 06)."""
    outline = load_outline(REPO)
    data = toc(outline)
    lessons = [les for les in outline.lessons if les.level != "welcome"]
    assert data["root"] == "notebooks/00_welcome"
    files = _toc_files(data)
    lesson_files = [f for f in files if f.startswith("notebooks/") and f != data["root"]]
    assert lesson_files == [les.path.removesuffix(".ipynb") for les in lessons]
    exercise_files = [f for f in files if f.startswith("exercises/")]
    assert exercise_files == [
        les.exercise.removesuffix(".ipynb") for les in lessons if les.exercise
    ]
    assert "docs/glossary" in files and "outline" in files
    assert len(files) == len(set(files))


def test_toc_names_only_notebooks_that_exist() -> None:
    """Every file the real TOC lists is a notebook of the course (or a page the build writes)."""
    data = toc(load_outline(REPO))
    for name in _toc_files(data):
        if name in ("outline", "docs/glossary"):
            continue
        assert (REPO / f"{name}.ipynb").is_file(), name


def test_toc_parts_follow_the_levels() -> None:
    """Each level's lessons sit under that level's caption; solutions come last."""
    outline = load_outline(REPO)
    parts = {p["caption"]: [c["file"] for c in p["chapters"]] for p in toc(outline)["parts"]}
    beginner = [les.path.removesuffix(".ipynb") for les in outline.by_level("beginner")]
    assert parts["Beginner lessons"] == beginner
    assert list(parts)[-1].startswith("Solutions")


def test_outline_page_has_every_lesson_in_order_with_its_link() -> None:
    """The outline page links each lesson, in order, and names its exercise and time."""
    outline = load_outline(REPO)
    page = outline_page(outline)
    links = re.findall(r"^## \[[^\]]+\]\(([^)]+)\)", page, flags=re.MULTILINE)
    assert links == [les.path for les in outline.lessons]
    for les in outline.lessons:
        if les.exercise:
            assert f"({les.exercise})" in page


# ------------------------------------------------------------------ a small course, built


def _lesson(lesson_id: str, order: int, title: str, exercise: str | None, cells: list[Any]) -> Any:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["perflab"] = {
        "course": {
            "id": lesson_id,
            "title": title,
            "level": "welcome" if lesson_id == "00" else "beginner",
            "order": order,
            "minutes": {"teaching": 20, "exercises": 15 if exercise else 0},
            "prerequisites": {"lessons": [], "python": "none"},
            "questions": [f"What is {title}?"],
            "objectives": [f"explain {title}"],
            "keypoints": [f"{title} matters"],
            "exercise": exercise,
        }
    }
    return nb


def _png() -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A two-lesson course whose saved outputs could not come from running it."""
    root = tmp_path / "course"
    (root / "notebooks" / "beginner").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "docs").mkdir()
    shutil.copytree(REPO / "site", root / "site")
    (root / "docs" / "glossary.md").write_text("# Glossary\n\nP99\n: the slow tail.\n")
    (root / "notebooks" / "beginner" / "data").mkdir()
    (root / "notebooks" / "beginner" / "data" / "notes.md").write_text("# Notes\n\nSome.\n")
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    # Running this cell would raise; its saved output says 'saved, not re-run'.
    never_run = code("raise SystemExit('the website must not execute notebooks')")
    never_run.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="saved, not re-run\n")
    ]
    plot = code("plot()")
    plot.outputs = [nbformat.v4.new_output("display_data", data={"image/png": _png()})]
    nbs = {
        "notebooks/00_welcome.ipynb": _lesson(
            "00", 0, "Welcome", None, [md("# Welcome\n\n[Start](beginner/01_first.ipynb)")]
        ),
        "notebooks/beginner/01_first.ipynb": _lesson(
            "01",
            1,
            "First",
            "exercises/01_first.ipynb",
            [
                md("# 01 First\n\nSee [the notes](data/notes.md)."),
                never_run,
                plot,
                md("[Next](02_second.ipynb)"),
            ],
        ),
        "notebooks/beginner/02_second.ipynb": _lesson(
            "02", 2, "Second", None, [md("# 02 Second\n\nThe end.")]
        ),
    }
    exercise = nbformat.v4.new_notebook(cells=[md("# Exercise 01")])
    exercise.metadata["perflab"] = {"course": {"lesson": "01", "minutes": 15}}
    nbs["exercises/01_first.ipynb"] = exercise
    for rel, nb in nbs.items():
        nbformat.write(nb, root / rel)
    return root


@pytest.mark.slow
def test_build_site_shows_saved_outputs_and_runs_nothing(course: Path, tmp_path: Path) -> None:
    """The site has every page, the saved plot and text; the raising cell was never run.

    Built strict: a warning (a link to a page the site lacks) would fail it.
    """
    out = build_site(course, tmp_path / "site", strict=True)
    assert (out / "index.html").is_file()
    first = (out / "notebooks" / "beginner" / "01_first.html").read_text(encoding="utf-8")
    assert "saved, not re-run" in first
    assert "must not execute" in first  # the source is shown ...
    assert "SystemExit: " not in first  # ... but no traceback: it never ran
    images = re.findall(r'<img[^>]+src="([^"]+)"', first)
    assert any((out / "notebooks" / "beginner" / src).is_file() for src in images), images
    assert 'href="02_second.html"' in first
    assert 'href="data/notes.html"' in first  # a markdown page a lesson links to is a page
    for page in ("outline.html", "docs/glossary.html", "exercises/01_first.html"):
        assert (out / page).is_file(), page


def test_build_site_refuses_a_course_without_its_config(course: Path, tmp_path: Path) -> None:
    """Without site/_config.yml the command says to build from a checkout, and exits 2."""
    (course / "site" / "_config.yml").unlink()
    code = main(["site", "build", "--root", str(course), "--out", str(tmp_path / "s")])
    assert code == 2
    assert not (tmp_path / "s").exists()


def test_build_site_without_jupyter_book_says_how_to_install(
    course: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no Jupyter Book installed, the error names the package to install."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jupyter_book" else real(name, *a),
    )
    assert main(["site", "build", "--root", str(course), "--out", str(tmp_path / "s")]) == 2
    assert "jupyter-book" in capsys.readouterr().err


def test_the_pages_workflow_builds_with_the_documented_command() -> None:
    """The GitHub Pages workflow runs `perflab site build` and uploads the folder it writes."""
    import yaml

    from perflab.cli.site import DEFAULT_OUT

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "site.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert any(c.startswith("perflab site build") for c in commands), commands
    assert any('".[site]"' in c and "constraints.txt" in c for c in commands), commands
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    assert [s["with"]["path"] for s in uploads] == [DEFAULT_OUT.as_posix()]
    assert "deploy-pages" in str(workflow["jobs"]["deploy"]["steps"])
