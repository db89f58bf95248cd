"""The room report of `perflab check --html`, opened in chromium as a teacher would.

The page is built from a small room's results, one learner name carrying markup that
would run script if it were not escaped. In the browser: the grid shows a row per
learner and a column per exercise, the most-failed check comes with its hint, and the
injected markup neither runs nor renders as an element.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from perflab.grading.report_html import to_html
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, NotebookReport, Status

HOSTILE = '<img src=x onerror="window.__pwned = 1">eve'
FAIL = "\u2718 [01.p] the P95 latency: got 3, too low\n  hint: sort before you index"


def _room() -> list[NotebookReport]:
    def report(learner: str, rows: list[ExerciseResult], seconds: float) -> NotebookReport:
        return NotebookReport(
            f"room/{learner}/01.ipynb", learner, tuple(rows), (5,), duration_s=seconds
        )

    return [
        report("ana", [ExerciseResult("01.p", Status.PASSED, "2 checks passed")], 3.0),
        report("ben", [ExerciseResult("01.p", Status.FAILED, FAIL, 4, 5)], 9.5),
        report(
            HOSTILE,
            [
                ExerciseResult("01.p", Status.FAILED, FAIL, 4, 5),
                ExerciseResult(NOTEBOOK_ROW, Status.ERROR, "cell 9 raised RuntimeError", 9),
            ],
            1.5,
        ),
    ]


def test_the_room_report_reads_in_a_browser_and_runs_no_learner_markup(
    page: Any, shoot: Callable[..., Path], tmp_path: Path
) -> None:
    path = tmp_path / "room.html"
    path.write_text(to_html(_room()), encoding="utf-8")
    page.goto(path.as_uri())
    text = page.inner_text("body")
    for learner in ("ana", "ben", "eve"):
        assert learner in text
    assert "01.p" in text and "sort before you index" in text
    assert HOSTILE in text, "the hostile name should show as text"
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.locator("img").count() == 0
    shoot(page, "room-report", full_page=True)
