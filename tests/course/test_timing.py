"""The timing rule: the floor is computed as docs/course.md states, and no stated time is below it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perflab.course.outline import Outline, load_outline
from perflab.course.timing import (
    NotebookCounts,
    below_floor,
    count_notebook,
    exercise_floor,
    teaching_floor,
)


def _nb(*cells: dict[str, Any]) -> dict[str, Any]:
    return {"cells": list(cells), "metadata": {}}


def _md(text: str, **perflab: Any) -> dict[str, Any]:
    return {"cell_type": "markdown", "source": text, "metadata": {"perflab": perflab}}


def _code(text: str, outputs: list[dict[str, Any]] | None = None, **meta: Any) -> dict[str, Any]:
    return {"cell_type": "code", "source": text, "outputs": outputs or [], "metadata": meta}


def test_counts_follow_the_rule() -> None:
    """Words, non-blank code lines, outputs, plots, run time and TODO cells are counted."""
    nb = _nb(
        _md("one two three, four's five-six"),
        _md("# Generated header with many words", generated="header"),
        _code(
            "x = 1\n\n   \ny = 2",
            [{"output_type": "stream", "text": "hi"}, {"data": {"image/png": "..."}}],
            execution={
                "iopub.execute_input": "2026-01-01T00:00:00.000Z",
                "shell.execute_reply": "2026-01-01T00:01:30.000Z",
            },
        ),
        _code("pass", perflab={"role": "todo", "exercise": "01.a"}),
    )
    assert count_notebook(nb) == NotebookCounts(
        words=5, code_lines=3, outputs=1, plots=1, run_s=90.0, todo_cells=1
    )


def test_floor_arithmetic() -> None:
    """240 words (2 min) + 12 lines (2 min) + 2 outputs (1 min) + 1 plot (1 min) + 60 s = 7 min."""
    counts = NotebookCounts(words=240, code_lines=12, outputs=2, plots=1, run_s=60.0, todo_cells=2)
    assert teaching_floor(counts) == 7
    assert exercise_floor(counts) == 7 + 2 * 5 + 1
    assert teaching_floor(NotebookCounts(1, 0, 0, 0, 0.0, 0)) == 1  # rounds up


def test_no_stated_time_is_below_its_floor(outline: Outline) -> None:
    """Every lesson and exercise states at least the minutes the rule gives its notebook."""
    assert below_floor(outline) == []


def test_a_time_below_the_floor_is_caught(course_copy: Path) -> None:
    """Stating 1 minute for lesson 01, or for its exercise, fails the floor check."""
    path = course_copy / "notebooks/beginner/01_measure_first.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["perflab"]["course"]["minutes"] = {"teaching": 1, "exercises": 1}
    path.write_text(json.dumps(nb), encoding="utf-8")
    short = below_floor(load_outline(course_copy))
    kinds = {(p, kind, stated) for p, kind, stated, _ in short}
    assert kinds == {
        ("notebooks/beginner/01_measure_first.ipynb", "teaching", 1),
        ("exercises/01_percentiles.ipynb", "exercises", 1),
    }
    assert all(floor > 1 for *_, floor in short)
