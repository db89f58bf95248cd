"""The room report: a self-contained HTML page whose every learner string is escaped."""

from __future__ import annotations

import argparse
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from perflab.cli.check import register
from perflab.grading.report_html import failed_checks, surprises, to_html
from perflab.grading.results import (
    NOTEBOOK_ROW,
    ExerciseResult,
    NotebookReport,
    Prediction,
    Status,
)

from ._helpers import exercise, notebook, references, write

FAIL_P95 = "\u2718 [01.p] the P95 latency: got 3, too low\n  hint: sort before you index"
FAIL_MEAN = "\u2718 [01.p] the mean: got 1, too low\n  hint: divide by n"


def _report(learner: str, rows: list[ExerciseResult], **kw: object) -> NotebookReport:
    return NotebookReport(f"room/{learner}/01.ipynb", learner, tuple(rows), (5,), **kw)  # type: ignore[arg-type]


def _room() -> list[NotebookReport]:
    return [
        _report(
            "ana",
            [
                ExerciseResult("01.p", Status.PASSED, "2 checks passed"),
                ExerciseResult("01.q", Status.PASSED, "ok"),
            ],
            duration_s=3.0,
            predictions=(Prediction("01.p", "P95 in ms", 100.0, 400.0),),
        ),
        _report(
            "ben",
            [
                ExerciseResult("01.p", Status.FAILED, FAIL_P95, 4, 5),
                ExerciseResult("01.q", Status.PASSED, "ok"),
            ],
            duration_s=9.5,
            predictions=(
                Prediction("01.p", "P95 in ms", 300.0, 400.0),
                Prediction("01.q", "hits", None, None),
            ),
        ),
        _report(
            "cy",
            [
                ExerciseResult(
                    "01.p", Status.FAILED, "with seed 5: " + FAIL_P95 + "\n" + FAIL_MEAN, 4, 5
                ),
                ExerciseResult(
                    "01.q", Status.FAILED, "not done yet: cell 7 still raises NotImplementedError"
                ),
                ExerciseResult(NOTEBOOK_ROW, Status.ERROR, "cell 9 raised RuntimeError: boom", 9),
            ],
            duration_s=1.5,
        ),
    ]


class _Collect(HTMLParser):
    """Every tag, attribute and text chunk of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collect:
    parser = _Collect()
    parser.feed(page)
    return parser


def test_grid_has_a_row_per_learner_and_a_column_per_exercise() -> None:
    """Each learner is a row, each exercise a column, each verdict a cell with its feedback."""
    page = to_html(_room())
    grid = page.split('<h2 id="grid">')[1].split("<h2")[0]
    assert grid.count("<tr>") == 1 + 3
    assert re.findall(r"<th>(01\.\w)</th>", grid) == ["01.p", "01.q"]
    ben = grid.split("<th>ben</th>")[1].split("</tr>")[0]
    assert 'class="status failed"' in ben and "sort before you index" in ben
    assert ">1/2<" in ben
    cy = grid.split("<th>cy</th>")[1].split("</tr>")[0]
    assert "cell 9 raised RuntimeError" in cy  # the notebook's own problem is shown too


def test_checks_most_learners_failed_come_first_with_their_hints() -> None:
    """The P95 check, failed by two learners, ranks above the mean check failed by one."""
    ranked = failed_checks(_room())
    assert ranked[0] == ("01.p", "the P95 latency", "sort before you index", 2)
    assert ("01.p", "the mean", "divide by n", 1) in ranked
    assert any(ex == "01.q" and "not done yet" in what for ex, what, _, _ in ranked)
    page = to_html(_room())
    assert "2 of 3" in page and "divide by n" in page


def test_times_are_listed_slowest_first() -> None:
    """The time section lists notebooks by time, slowest first."""
    page = to_html(_room())
    times = page.split('<h2 id="times">')[1].split("<h2")[0]
    assert [m for m in re.findall(r"<td>(\d+\.\d) s</td>", times)] == ["9.5", "3.0", "1.5"]


def test_predictions_show_the_biggest_surprise_first() -> None:
    """Predictions are grouped per quantity with median guess, measurement and gap."""
    (p95, hits) = surprises(_room())
    assert p95["what"] == "P95 in ms" and p95["predicted"] == 2
    assert p95["median_predicted"] == 200.0 and p95["median_measured"] == 400.0
    assert p95["median_gap"] == pytest.approx(0.5)  # gaps 0.75 and 0.25
    assert hits["predicted"] == 0 and hits["learners"] == 1
    assert "50%" in to_html(_room())


def test_without_predictions_the_report_says_so() -> None:
    """Results that carry no predictions get a sentence saying why, not an empty table."""
    room = [_report("ana", [ExerciseResult("01.p", Status.PASSED, "ok")])]
    section = to_html(room).split('<h2 id="predictions">')[1]
    assert "carry no predictions" in section and "<table>" not in section


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_learner_strings_are_escaped() -> None:
    """A learner name, exercise id, feedback, path or prediction holding HTML shows as text."""
    bad = NotebookReport(
        f"room/{HOSTILE}/01.ipynb",
        HOSTILE,
        (
            ExerciseResult(
                HOSTILE, Status.FAILED, f"\u2718 [{HOSTILE}] {HOSTILE}: no\n  hint: {HOSTILE}"
            ),
            ExerciseResult(NOTEBOOK_ROW, Status.ERROR, f'cell 3 raised ValueError: "{HOSTILE}'),
        ),
        (5,),
        1.0,
        predictions=(Prediction(HOSTILE, HOSTILE, 1.0, 2.0),),
    )
    page = to_html([bad])
    parsed = _parse(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "<script" not in page and "<img" not in page
    assert HOSTILE in "".join(parsed.text)  # shown, as text
    titles = [v for k, v in parsed.attrs if k == "title"]
    assert any(v and HOSTILE in v for v in titles)  # and in the hover text, intact


def test_page_is_self_contained() -> None:
    """No script, and nothing loaded from elsewhere (no src, no stylesheet link)."""
    parsed = _parse(to_html(_room()))
    assert "script" not in parsed.tags and "link" not in parsed.tags
    assert not [v for k, v in parsed.attrs if k in ("src", "href")]


@pytest.mark.notebooks
def test_check_writes_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`perflab check ROOM --html FILE` writes the report for the room it graded."""
    room = tmp_path / "room"
    write(notebook(*exercise("a"), exercises=["a"]), room / "ana" / "ex.ipynb")
    write(notebook(*exercise("a", "answer_a = 0"), exercises=["a"]), room / "ben" / "ex.ipynb")
    out = tmp_path / "report.html"
    parser = argparse.ArgumentParser(prog="perflab")
    register(parser.add_subparsers())
    (refs,) = references(tmp_path / "refs", "a")
    args = parser.parse_args(
        ["check", str(room), "--seed", "3", "--html", str(out), "--workers", "2"]
        + ["--references", str(refs)]
    )
    assert args.func(args) == 1
    assert f"wrote {out}" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert "<th>ana</th>" in page and "<th>ben</th>" in page
    assert 'class="status failed"' in page and 'class="status passed"' in page


def test_predictions_are_read_from_the_records_check_prediction_makes() -> None:
    """predictions_in reads the guess and the measurement from real check_prediction
    records in check cells, including a missing guess, and ignores other cells."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from perflab.grading.checks import MIME_TYPE, capture, check_prediction
    from perflab.grading.results import predictions_in

    with capture() as records:
        check_prediction("03.hit", "the hit rate", 0.5, 0.62)
        check_prediction("03.hit", "the saving", None, 12.0)
    outputs = [new_output("display_data", data={MIME_TYPE: r}) for r in records]
    check = new_code_cell("...", metadata={"perflab": {"role": "check", "exercise": "03.hit"}})
    check.outputs = outputs
    other = new_code_cell("...")
    other.outputs = list(outputs)
    found = predictions_in(new_notebook(cells=[other, check]))
    assert found == (
        Prediction("03.hit", "the hit rate", 0.5, 0.62),
        Prediction("03.hit", "the saving", None, 12.0),
    )
