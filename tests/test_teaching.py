"""docs/teaching.md's schedules follow the lessons' minutes; the tool that writes them."""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from perflab.course.outline import Outline, load_outline
from perflab.teaching import (
    HALF_DAY_MIN,
    Part,
    drifted,
    main,
    pack_halves,
    parts,
    render_all,
    six_week_plan,
    update_document,
)

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "teaching.md"


@pytest.fixture(scope="module")
def outline() -> Outline:
    return load_outline(REPO)


def test_teaching_md_matches_the_notebooks(outline: Outline) -> None:
    """Schedules and explorer answers are what the tool computes now (else: regenerate)."""
    stale = drifted(DOC.read_text(encoding="utf-8"), outline)
    assert stale == [], f"docs/teaching.md is out of date ({stale}): run python -m perflab.teaching"


def test_a_changed_minute_is_drift(tmp_path: Path) -> None:
    """Ten more minutes of teaching in lesson 01 make the saved schedules stale."""
    for folder in ("notebooks", "exercises", "solutions"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    lesson = tmp_path / "notebooks" / "beginner" / "01_measure_first.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    nb["metadata"]["perflab"]["course"]["minutes"]["teaching"] += 10
    lesson.write_text(json.dumps(nb), encoding="utf-8")
    changed = load_outline(tmp_path)
    text = DOC.read_text(encoding="utf-8")
    stale = drifted(text, changed, answers=False)
    assert {"half-day", "one-day", "two-days", "six-weeks"} <= set(stale)
    fixed = update_document(text, render_all(changed, answers=False))
    assert drifted(fixed, changed, answers=False) == []


def test_the_command_rewrites_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` exits 1 on a stale file; the plain run fixes it; `--check` then passes."""
    doc = tmp_path / "teaching.md"
    stale = DOC.read_text(encoding="utf-8").replace("| 09:15 |", "| 09:16 |", 1)
    doc.write_text(stale, encoding="utf-8")
    assert main(["--check", "--doc", str(doc)]) == 1
    assert "schedules out of date: half-day" in capsys.readouterr().out
    assert main(["--doc", str(doc)]) == 0
    assert main(["--check", "--doc", str(doc)]) == 0
    assert doc.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_a_half_day_holds_its_working_time_and_keeps_the_order(outline: Outline) -> None:
    """Each half holds at most 195 minutes, parts stay in course order, none is lost."""
    items = parts(outline.lessons)
    halves, left = pack_halves(items, 4)
    assert all(sum(p.minutes for p in h) <= HALF_DAY_MIN - 15 for h in halves)
    assert [p for h in halves for p in h] + left == items


def test_a_part_longer_than_a_half_day_is_refused(outline: Outline) -> None:
    lesson = replace(outline.lessons[1], teaching_min=200)
    with pytest.raises(ValueError, match="takes 200 min, more than a half day's 195 min"):
        pack_halves([Part(lesson, "teaching", 200)], 1)


def test_the_half_day_rows_add_up(outline: Outline) -> None:
    """The session starts at 09:00 and its rows' minutes fill exactly 09:00-12:30."""
    table = render_all(outline, answers=False)["half-day"]
    rows = [r.split("|") for r in table.splitlines() if r.startswith("| session")]
    assert rows[0][2].strip() == "09:00"
    assert sum(int(r[4]) for r in rows) == HALF_DAY_MIN


def test_six_weeks_is_the_best_cut(outline: Outline) -> None:
    """No way of cutting the lessons into six runs has a lighter busiest week."""
    weeks = six_week_plan(outline)
    assert [les for w in weeks for les in w] == list(outline.lessons)
    minutes = [les.teaching_min + les.exercise_min for les in outline.lessons]

    def busiest(cuts: tuple[int, ...]) -> int:
        bounds = (0, *cuts, len(minutes))
        return max(sum(minutes[a:b]) for a, b in itertools.pairwise(bounds))

    best = min(busiest(c) for c in itertools.combinations(range(1, len(minutes)), 5))
    assert max(sum(les.teaching_min + les.exercise_min for les in w) for w in weeks) == best


def test_a_missing_block_is_an_error() -> None:
    with pytest.raises(ValueError, match="no <!-- schedule:half-day start -->"):
        update_document("no markers here", {"half-day": "| x |"})
