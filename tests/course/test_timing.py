"""The timing rule: the floor is computed as docs/course.md states, and no stated time is below it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perflab.course.outline import Outline, load_outline
from perflab.course.timing import (
    MAX_TEACHING_MIN,
    NotebookCounts,
    below_floor,
    count_notebook,
    exercise_floor,
    optional_floor,
    optional_start,
    teaching_floor,
)

#: Lessons that still state more than an hour of teaching (issue 12, in progress).
STILL_OVER_AN_HOUR: set[str] = set()


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


def test_the_optional_part_is_counted_on_its_own() -> None:
    """Cells from a "Going further (optional)" heading on count as optional, not teaching."""
    nb = _nb(
        _md("one two three"),
        _code("x = 1", [{"output_type": "stream", "text": "1"}]),
        _md("## Going further (optional): the model\n\nfour five"),
        _code("y = 2\nz = 3", [{"data": {"image/png": "..."}}]),
    )
    assert optional_start(nb) == 2
    assert count_notebook(nb) == NotebookCounts(3, 1, 1, 0, 0.0, 0)
    assert count_notebook(nb, optional=True) == NotebookCounts(7, 2, 0, 1, 0.0, 0)
    assert optional_floor(nb) == 2  # 7 words (3.5 s) + 2 lines (20 s) + a plot (60 s)


@pytest.mark.parametrize(
    "heading",
    [
        "## Going further",
        "## Going further (optional",
        "Going further (optional)",
        "## 5. Going further (optional)",
    ],
)
def test_other_headings_are_teaching(heading: str) -> None:
    """Only a heading that starts with "Going further (optional)" opens the optional part."""
    nb = _nb(_md("one"), _md(heading + "\n\ntwo three"))
    assert optional_start(nb) is None
    assert count_notebook(nb, optional=True) == NotebookCounts(0, 0, 0, 0, 0.0, 0)
    assert optional_floor(nb) == 0


def test_no_stated_teaching_time_is_over_an_hour(outline: Outline) -> None:
    """No lesson states more than 60 minutes of teaching, except the ones still to be split.

    The list shrinks as lessons are split or move a deep dive to "Going further (optional)";
    a lesson that newly goes over the hour, or one that gets under it, fails this test.
    """
    over = {les.id for les in outline if les.teaching_min > MAX_TEACHING_MIN}
    assert over == STILL_OVER_AN_HOUR


def _with_optional_section(course_copy: Path, heading: str) -> str:
    """Append to lesson 01 a long last section (600 words, 30 lines) under ``heading``."""
    rel = "notebooks/beginner/01_measure_first.ipynb"
    path = course_copy / rel
    nb = json.loads(path.read_text(encoding="utf-8"))
    footer = nb["cells"].pop()  # the generated footer stays last
    nb["cells"] += [
        _md(heading + "\n\n" + "word " * 600),
        _code("\n".join(f"x{i} = {i}" for i in range(30))),
        footer,
    ]
    path.write_text(json.dumps(nb), encoding="utf-8")
    return rel


def test_an_optional_section_leaves_the_floor_alone(course_copy: Path) -> None:
    """A long "Going further (optional)" section does not raise lesson 01's teaching floor."""
    _with_optional_section(course_copy, "## Going further (optional)")
    assert below_floor(load_outline(course_copy)) == []


def test_an_optional_section_counted_as_teaching_fails(course_copy: Path) -> None:
    """The same section under a plain heading is teaching, and lesson 01's stated time is short."""
    rel = _with_optional_section(course_copy, "## Going further")
    short = [(p, kind) for p, kind, *_ in below_floor(load_outline(course_copy))]
    assert short == [(rel, "teaching")]
