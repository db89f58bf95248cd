"""README.md says where to start and how long each level takes, with the outline's numbers."""

from __future__ import annotations

import re

import pytest

from perflab.course.outline import Outline

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DURATION = re.compile(r"(?:(\d+) h)?\s*(?:(\d+) min)?")


def _minutes(text: str) -> int:
    """``"7 h 45 min"`` -> 465 (parsed here, independently of the generator's formatter)."""
    match = DURATION.fullmatch(text.strip())
    assert match and (match[1] or match[2]), f"not a duration: {text!r}"
    return int(match[1] or 0) * 60 + int(match[2] or 0)


def _row(name: str) -> str:
    rows = [line for line in README.splitlines() if line.startswith(f"| {name} |")]
    assert len(rows) == 1, f"README has no single row for {name}"
    return rows[0]


def test_readme_says_where_to_start() -> None:
    """It names 00_welcome and the website command before anything else about the lessons."""
    start = README.index("## Where to start")
    assert "notebooks/00_welcome.ipynb" in README[start : start + 600]
    assert "perflab site build" in README[start : start + 600]


@pytest.mark.parametrize("level", ["beginner", "intermediate", "advanced"])
def test_readme_level_times_match_the_outline(outline: Outline, level: str) -> None:
    """Each level's row states the outline's sums of teaching and exercise minutes."""
    lessons = outline.by_level(level)
    teaching = sum(les.teaching_min for les in lessons)
    exercises = sum(les.exercise_min for les in lessons)
    row = _row(level)
    match = re.search(r"about ([^(|]+) \(([^,]+) teaching, ([^)]+) exercises\)", row)
    assert match, row
    assert [_minutes(match[i]) for i in (1, 2, 3)] == [teaching + exercises, teaching, exercises]
    for les in lessons:
        assert f"{les.id} " in row, f"README's {level} row does not list lesson {les.id}"


def test_readme_total_matches_the_outline(outline: Outline) -> None:
    """The whole-course row is the sum over every lesson, the welcome included."""
    total = sum(les.teaching_min + les.exercise_min for les in outline.lessons)
    match = re.search(r"about ([^|]+) \|$", _row("whole course"))
    assert match and _minutes(match[1]) == total


@pytest.mark.parametrize("text", ["349", "377 hits", "69.8%", "1.776x", "87%"])
def test_readme_and_lessons_page_do_not_give_away_lesson_results(text: str) -> None:
    """Lessons 02's and 03's key results are not quoted ahead of the lessons."""
    lessons = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    assert text not in README and text not in lessons
