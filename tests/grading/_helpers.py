"""Builders for small exercise notebooks, hostile ones included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, NotebookReport

SETUP = "from perflab.grading import check_close, check_equal, check_true"
PARAMS = "seed = 0\nn = 10"


def cell(source: str, exercise: str | None = None, role: str | None = None) -> Any:
    """A code cell, tagged with perflab metadata when a role is given."""
    meta: dict[str, Any] = {}
    if role is not None:
        meta["perflab"] = {"role": role, **({"exercise": exercise} if exercise else {})}
        if role == "parameters":
            meta["tags"] = ["parameters"]
    return new_code_cell(source, metadata=meta)


def answer(ex: str) -> str:
    """The correct learner code for exercise ``ex``: depends on the seed and n."""
    return f"answer_{ex} = sum(range(seed % 97 + n))"


def check(ex: str) -> str:
    """The check cell source for exercise ``ex``."""
    return f'check_close("{ex}", "the sum", answer_{ex}, sum(range(seed % 97 + n)))'


def exercise(ex: str, todo: str | None = None) -> list[Any]:
    """A todo cell (correct unless ``todo`` is given) and its check cell."""
    return [
        cell(todo if todo is not None else answer(ex), ex, "todo"),
        cell(check(ex), ex, "check"),
    ]


def notebook(*cells: Any, exercises: list[str] | None = None, digests: bool = True) -> Any:
    """A notebook with the setup and parameters cells first; a manifest when asked."""
    from perflab.grading.checks import source_digest

    nb = new_notebook(cells=[cell(SETUP), cell(PARAMS, role="parameters"), *cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if exercises is not None:
        nb.metadata["perflab"] = {
            "id": "test-notebook",
            "manifest": {
                "exercises": exercises,
                "parameters": {"seed": 0, "n": 10},
                "checks": {e: [source_digest(check(e))] for e in exercises} if digests else {},
            },
        }
    return nb


def solution(*exercises: str, checks: dict[str, str] | None = None, **answers: str) -> Any:
    """The reference solution of a test notebook: each exercise answered right.

    Args:
        exercises: the exercise ids, in order.
        checks: check cell sources that differ from :func:`check` (by exercise).
        answers: todo cell sources that differ from :func:`answer` (by exercise).
    """
    checks = checks or {}
    cells = []
    for ex in exercises:
        cells.append(cell(answers.get(ex, answer(ex)), ex, "todo"))
        cells.append(cell(checks.get(ex, check(ex)), ex, "check"))
    nb = notebook(*cells)
    nb.metadata["perflab"] = {"id": "test-notebook"}
    return nb


def references(folder: Path, *exercises: str, **kw: Any) -> tuple[Path, ...]:
    """A folder holding the reference solution for ``exercises``; for reference_dirs."""
    write(solution(*exercises, **kw), folder / "test-notebook.ipynb")
    return (folder,)


def write(nb: Any, path: Path) -> Path:
    """Write a notebook and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def by_exercise(report: NotebookReport) -> dict[str, ExerciseResult]:
    """The report's exercise rows by id."""
    return {r.exercise: r for r in report.results if r.exercise != NOTEBOOK_ROW}


def notes(report: NotebookReport) -> list[ExerciseResult]:
    """The report's notebook rows."""
    return [r for r in report.results if r.exercise == NOTEBOOK_ROW]
