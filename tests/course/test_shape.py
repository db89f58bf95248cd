"""Every lesson and exercise keeps the shape a learner can follow (perflab.course.shape)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perflab.course import shape
from perflab.course.outline import Outline, load_outline


def _code(source: str, **metadata: Any) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "metadata": metadata, "outputs": []}


def _md(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def _answer() -> dict[str, Any]:
    return _code(
        "print('answer')",
        tags=["your-turn-answer", "hide-cell"],
        jupyter={"source_hidden": True, "outputs_hidden": True},
    )


def _lines(n: int) -> str:
    return "\n".join(f"x{i} = {i}" for i in range(n))


def test_the_curriculum_keeps_its_shape(outline: Outline) -> None:
    """No lesson or exercise breaks a shape rule."""
    assert shape.problems(outline) == []


def test_blank_lines_are_not_code_lines() -> None:
    """A code line is a non-blank line, as in the timing rule."""
    assert shape.code_lines(_code("a = 1\n\n   \nb = 2\n")) == 2


@pytest.mark.parametrize(
    ("level", "limit"), [("beginner", 20), ("intermediate", 40), ("advanced", 40)]
)
def test_a_cell_over_its_levels_limit_is_named(level: str, limit: int) -> None:
    """One line over the limit is caught, with the heading a learner can find."""
    nb = {"cells": [_md("## Measure"), _code(_lines(limit)), _code(_lines(limit + 1))]}
    found = shape.lesson_problems(nb, level, welcome=True)
    assert found == [f'code cell 2 under "Measure" has {limit + 1} code lines (at most {limit})']


def test_an_exercises_check_cells_are_not_counted() -> None:
    """The grader's check cells may be long; the learner's cells may not."""
    check = _code(_lines(30), perflab={"role": "check"})
    assert shape.exercise_problems({"cells": [check]}, "beginner") == []
    assert shape.exercise_problems({"cells": [_code(_lines(30))]}, "beginner")


def test_a_beginner_lesson_shows_a_result_early() -> None:
    """16 lines of code before the first output break the rule; 15 do not."""
    for n, broken in [(15, False), (16, True)]:
        first = _code(_lines(n - 1))
        shown = _code("x", outputs=None)
        shown["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
        nb = {"cells": [first, shown]}
        found = shape.lesson_problems(nb, "beginner", welcome=True)
        assert bool(found) is broken, found


def test_a_lesson_without_your_turn_is_caught() -> None:
    """No '### Your turn' cell, or no collapsed answer after it, is a problem."""
    assert shape.lesson_problems({"cells": [_code("x = 1")]}, "advanced") == [
        "no '### Your turn' markdown cell"
    ]
    nb = {"cells": [_md("### Your turn: fewer workers"), _code("workers = 3")]}
    assert "no answer after" in shape.lesson_problems(nb, "advanced")[0]
    nb["cells"].append(_answer())
    assert shape.lesson_problems(nb, "advanced") == []


def test_an_answer_shown_open_is_caught() -> None:
    """An answer cell JupyterLab does not collapse gives the answer away."""
    answer = _answer()
    answer["metadata"]["jupyter"] = {}
    nb = {"cells": [_md("### Your turn"), answer]}
    assert "not collapsed" in shape.lesson_problems(nb, "intermediate")[0]


def test_a_broken_copy_of_the_curriculum_is_caught(course_copy: Path) -> None:
    """A long cell added to a real lesson is reported with the lesson's path."""
    path = course_copy / "notebooks" / "beginner" / "01_measure_first.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"].append(_code(_lines(25)))
    path.write_text(json.dumps(nb))
    found = shape.problems(load_outline(course_copy))
    assert any(
        p.startswith("notebooks/beginner/01_measure_first.ipynb: ") and "25 code lines" in p
        for p in found
    )


def test_a_term_used_before_its_link_is_caught() -> None:
    """'P99' in prose before any link to the percentile entry is a problem; linked, it is not."""
    link = "[P99](../../docs/glossary.md#percentile)"
    used_first = {"cells": [_md("The P99 is high.\n\nSee " + link + ".")]}
    assert shape.unlinked_terms(used_first) == ["p99"]
    linked_first = {"cells": [_md("The " + link + " is high. The P99 again.")]}
    assert shape.unlinked_terms(linked_first) == []


def test_headings_code_and_generated_cells_are_not_prose() -> None:
    """A term in a heading, in `code` or in a generated header needs no link there."""
    generated = _md("The P99 of the lesson.")
    generated["metadata"] = {"perflab": {"generated": "header"}}
    nb = {"cells": [generated, _md("## P99\n\nThe `p99` field.")]}
    assert shape.unlinked_terms(nb) == []


def test_a_term_in_another_links_text_is_not_a_use() -> None:
    """'[12b · Load balancing and the USL](12b.ipynb)' names a lesson; the term needs no link there."""
    nb = {"cells": [_md("Next: [12b · the Universal Scalability Law](12b.ipynb).")]}
    assert shape.unlinked_terms(nb) == []
