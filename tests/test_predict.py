"""Predict, then run: guesses recorded before the reveal, hindsight, calibration."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from perflab.predict import (
    FILE_NAME,
    Prediction,
    Predictions,
    PredictionsFileError,
    calibration,
    compare,
    format_value,
    load_predictions,
    notebook_problems,
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A learner's data folder of their own."""
    return tmp_path / "data"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_guess_is_recorded_before_the_reveal(data: Path) -> None:
    """The guess is in the data folder, with lesson, name, range and time, before any reveal."""
    before = datetime.now(timezone.utc)
    p = Predictions("01", data_dir=data)
    p.guess("p99_first_sample", 0.5, low=0.2, high=1.0, unit="s")
    (saved,) = load_predictions(data)
    assert (saved.lesson, saved.name, saved.value, saved.low, saved.high, saved.unit) == (
        "01",
        "p99_first_sample",
        0.5,
        0.2,
        1.0,
        "s",
    )
    assert saved.measured is None and saved.hindsight is False
    assert before - timedelta(seconds=1) <= saved.recorded_at <= datetime.now(timezone.utc)
    p.reveal("p99_first_sample", 1.25)
    (after,) = load_predictions(data)
    assert after.measured == 1.25 and after.recorded_at == saved.recorded_at


def test_the_default_folder_is_perflab_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without data_dir, guesses go to PERFLAB_DATA_DIR/predictions.sqlite3."""
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path / "mine"))
    Predictions("02").guess("speedup", 1.5, unit="x")
    assert (tmp_path / "mine" / FILE_NAME).is_file()
    assert [p.name for p in load_predictions()] == ["speedup"]


def test_reveal_prints_guess_measured_and_how_far_off(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reveal shows the guess, the measured value, the difference, the factor and the range."""
    p = Predictions("01", data_dir=data)
    p.guess("p99_first_sample", 0.5, low=0.2, high=1.0, unit="s")
    capsys.readouterr()
    p.reveal("p99_first_sample", 1.25)
    assert capsys.readouterr().out == (
        "p99_first_sample:\n"
        "  your guess  0.5 s (range 0.2 to 1 s)\n"
        "  measured    1.25 s\n"
        "  off by      0.75 s too low (a factor of 2.5)\n"
        "  range       the measured value is above your range\n"
    )


def test_a_changed_guess_before_the_reveal_replaces_the_old_one(data: Path) -> None:
    """Changing your mind before the reveal is honest: one guess, the latest, not hindsight."""
    p = Predictions("03", data_dir=data)
    p.guess("hit_rate", 0.5)
    p.guess("hit_rate", 0.7, low=0.6)
    (saved,) = load_predictions(data)
    assert (saved.value, saved.low, saved.hindsight) == (0.7, 0.6, False)


def test_rerunning_the_same_guess_changes_nothing(data: Path) -> None:
    """Re-running a notebook with the same guess after its reveal keeps the honest guess only."""
    first = Predictions("03", data_dir=data)
    first.guess("hit_rate", 0.7)
    first.reveal("hit_rate", 0.698)
    again = Predictions("03", data_dir=data)  # a new kernel session
    again.guess("hit_rate", 0.7)
    again.reveal("hit_rate", 0.698)
    (saved,) = load_predictions(data)
    assert saved.hindsight is False and saved.measured == 0.698


def test_a_guess_changed_after_its_reveal_is_kept_as_hindsight(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the reveal, a changed guess is added as hindsight; the honest one is kept."""
    first = Predictions("03", data_dir=data)
    first.guess("hit_rate", 0.5)
    first.reveal("hit_rate", 0.698)
    later = Predictions("03", data_dir=data)
    later.guess("hit_rate", 0.7)
    assert "hindsight" in capsys.readouterr().out
    later.reveal("hit_rate", 0.698)
    assert "(hindsight: written after the reveal" in capsys.readouterr().out
    saved = load_predictions(data)
    assert [(s.value, s.hindsight) for s in saved] == [(0.5, False), (0.7, True)]
    assert calibration(saved).count == 1 and calibration(saved).hindsight == 1


def test_a_guess_after_a_reveal_without_one_is_hindsight(data: Path) -> None:
    """Running the reveal first and then writing the guess, in one session, is hindsight."""
    p = Predictions("01", data_dir=data)
    p.guess("p99", None, unit="s")
    p.reveal("p99", 1.25)
    p.guess("p99", 1.2, unit="s")
    (saved,) = load_predictions(data)
    assert saved.hindsight is True


def _shipped_lesson(data: Path) -> None:
    """What a shipped lesson does: a placeholder guess, then the reveal."""
    p = Predictions("01", data_dir=data)
    p.guess("p99_first_sample", None, unit="s")
    p.reveal("p99_first_sample", 1.2345678)


def test_no_guess_output_is_the_same_whatever_the_data_folder_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no guess, the output is fixed, even when the data folder holds the tester's guess."""
    empty, tester = tmp_path / "empty", tmp_path / "tester"
    own = Predictions("01", data_dir=tester)
    own.guess("p99_first_sample", 0.5, unit="s")
    own.reveal("p99_first_sample", 1.2345678)
    capsys.readouterr()
    _shipped_lesson(empty)
    first = capsys.readouterr().out
    _shipped_lesson(tester)
    assert (
        capsys.readouterr().out
        == first
        == (
            "p99_first_sample: no guess yet; replace None with your guess and run this cell again\n"
            "p99_first_sample: no guess recorded; the measured value is 1.23 s\n"
        )
    )


def test_no_guess_writes_nothing(data: Path) -> None:
    """A shipped notebook (placeholder guesses) leaves the data folder untouched."""
    _shipped_lesson(data)
    assert not data.exists()
    assert load_predictions(data) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"value": "fast"}, TypeError, "must be a number, got str"),
        ({"value": True}, TypeError, "must be a number, got bool"),
        ({"value": float("nan")}, ValueError, "finite"),
        ({"value": 0.5, "low": 1.0, "high": 0.2}, ValueError, r"low \(1\) must be <= high"),
        ({"value": 2.0, "low": 0.2, "high": 1.0}, ValueError, "outside your own range"),
        ({"value": None, "low": 0.2}, ValueError, "give a guess with your range"),
    ],
)
def test_a_bad_guess_is_refused_with_a_clear_message(
    data: Path, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    """A guess that is not a number, or a range that cannot hold it, is refused and not stored."""
    with pytest.raises(error, match=match):
        Predictions("01", data_dir=data).guess("p99", **kwargs)  # type: ignore[arg-type]
    assert load_predictions(data) == []


@pytest.mark.parametrize("lesson", ["", "  ", "0\n1", 1])
def test_a_bad_lesson_id_is_refused(lesson: object) -> None:
    """The lesson id must be one line of text, such as '01'."""
    with pytest.raises(ValueError, match="lesson must be a short one-line text"):
        Predictions(lesson)  # type: ignore[arg-type]


def test_numpy_numbers_are_accepted(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A numpy scalar is a number, as a measurement usually is one."""
    p = Predictions("01", data_dir=data)
    p.guess("p50", np.int64(2), unit="s")
    p.reveal("p50", np.float64(2.0))
    assert "exactly right" in capsys.readouterr().out


def test_reveal_refuses_a_measured_value_that_is_not_a_number(data: Path) -> None:
    """A reveal of None (a variable not computed) is an error naming the prediction."""
    with pytest.raises(TypeError, match="measured value for 'p99' must be a number"):
        Predictions("01", data_dir=data).reveal("p99", None)  # type: ignore[arg-type]


def test_compare_gives_difference_ratio_and_range() -> None:
    """compare: measured - guess, guess / measured, and open-ended ranges."""
    c = compare(0.5, 2.0, low=0.1)
    assert (c.difference, c.ratio, c.in_range) == (1.5, 0.25, True)
    assert compare(1.0, 3.0, high=2.5).in_range is False
    assert compare(1.0, 0.0).ratio is None
    assert compare(1.0, 2.0).in_range is None


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0256378, "s", "0.0256 s"),
        (42.1116, "s", "42.1 s"),
        (344.128, "s", "344 s"),
        (5230.62, "", "5,231"),
        (65.2, "%", "65.2%"),
        (1.776, "x", "1.78x"),
        (0.0, "", "0"),
        (2.15, "$", "$2.15"),
        (-0.4, "$", "-$0.4"),
        (1234.5, "€", "€1,234"),
        (-0.25, "s", "-0.25 s"),
    ],
)
def test_format_value(value: float, unit: str, text: str) -> None:
    """Numbers print with 3 significant digits, grouped thousands and their unit."""
    assert format_value(value, unit) == text


def test_a_currency_prints_before_every_number_of_a_reveal(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With unit="$" the guess, its range, the measured value and the gap read "$2.15", not "2.15 $"."""
    p = Predictions("14", data_dir=data)
    p.guess("bill", 1.0, low=0.5, high=3.0, unit="$")
    assert capsys.readouterr().out == "bill: guess $1 (range $0.5 to $3) recorded\n"
    p.reveal("bill", 2.15)
    assert capsys.readouterr().out == (
        "bill:\n"
        "  your guess  $1 (range $0.5 to $3)\n"
        "  measured    $2.15\n"
        "  off by      $1.15 too low (a factor of 2.15)\n"
        "  range       the measured value is inside your range\n"
    )
    Predictions("14", data_dir=data).reveal("bill", 2.15, unit="$")
    assert capsys.readouterr().out == "bill: no guess recorded; the measured value is $2.15\n"


def _pred(
    value: float,
    measured: float | None,
    *,
    low: float | None = None,
    high: float | None = None,
    hindsight: bool = False,
) -> Prediction:
    return Prediction(
        "01", f"n{value}", value, low, high, datetime.now(timezone.utc), hindsight, measured
    )


def test_calibration_counts_honest_guesses_and_takes_the_median_ratio() -> None:
    """median_ratio is over revealed, non-hindsight guesses; in_range_rate over those with a range."""
    preds = [
        _pred(1.0, 2.0, low=0.5, high=1.5),  # ratio 0.5, out of range
        _pred(2.0, 2.0, low=1.0),  # ratio 1, in range
        _pred(4.0, 2.0, high=5.0),  # ratio 2, in range
        _pred(8.0, 2.0),  # ratio 4, no range
        _pred(3.0, None, low=1.0),  # not revealed: counted, not compared
        _pred(2.0, 2.0, low=1.9, high=2.1, hindsight=True),  # hindsight: left out
        _pred(5.0, 0.0),  # measured 0: no ratio
    ]
    cal = calibration(preds)
    assert (cal.count, cal.revealed, cal.hindsight, cal.with_range) == (6, 5, 1, 3)
    assert cal.median_ratio == pytest.approx(1.5)
    assert cal.in_range_rate == pytest.approx(2 / 3)
    assert cal.describe() == (
        "6 predictions, 5 revealed: median guess/measured 1.50; "
        "67% of 3 ranges held the measurement (1 hindsight, not counted)"
    )


def test_calibration_of_nothing_has_no_ratio() -> None:
    """With no revealed guess there is no ratio and no range rate, not a zero."""
    cal = calibration([_pred(1.0, None)])
    assert (cal.count, cal.median_ratio, cal.in_range_rate) == (1, None, None)


def test_calibration_reads_the_recorded_guesses(data: Path) -> None:
    """End to end: guesses and reveals in two lessons give the calibration's figures."""
    one = Predictions("01", data_dir=data)
    one.guess("p99", 1.0, low=0.5, high=2.0)
    one.reveal("p99", 4.0)
    two = Predictions("02", data_dir=data)
    two.guess("speedup", 3.0, low=1.0, high=4.0)
    two.reveal("speedup", 1.5)
    cal = calibration(load_predictions(data))
    assert (cal.count, cal.median_ratio, cal.in_range_rate) == (2, pytest.approx(1.125), 0.5)


@pytest.mark.parametrize("content", ["garbage", "sqlite"], ids=["not-sqlite", "foreign-sqlite"])
def test_a_bad_file_gets_a_clear_message_and_is_left_untouched(data: Path, content: str) -> None:
    """A corrupted or foreign predictions file is refused, named, and not changed."""
    data.mkdir()
    path = data / FILE_NAME
    if content == "garbage":
        path.write_bytes(b"SQLite format 3\x00" + b"\x07" * 2000)
    else:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE notes (text TEXT)")
            conn.execute("INSERT INTO notes VALUES ('keep me')")
        conn.close()
    (data / "cache.sqlite3").write_bytes(b"the learner's cache")
    before = {p.name: _digest(p) for p in data.iterdir()}
    p = Predictions("01", data_dir=data)
    with pytest.raises(PredictionsFileError, match=f"{path}.*left untouched"):
        p.guess("p99", 1.0)
    with pytest.raises(PredictionsFileError, match="left untouched"):
        load_predictions(data)
    assert {p.name: _digest(p) for p in data.iterdir()} == before


def test_a_file_broken_before_the_reveal_still_shows_the_number(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """If the file breaks between guess and reveal, the comparison prints, then a clear error."""
    p = Predictions("01", data_dir=data)
    p.guess("p99", 1.0, unit="s")
    (data / FILE_NAME).write_bytes(b"not a database")
    with pytest.raises(PredictionsFileError, match="not a perflab predictions file"):
        p.reveal("p99", 2.0)
    assert "measured    2 s" in capsys.readouterr().out


_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from perflab.predict import Predictions

    data, who = Path(sys.argv[1]), sys.argv[2]
    p = Predictions("01", data_dir=data)
    for i in range(15):
        p.guess(f"{who}_{i}", float(i))
        p.reveal(f"{who}_{i}", float(i + 1))
    """
)


def test_concurrent_writers_lose_no_guess(data: Path) -> None:
    """Four kernels writing to one file at once: every guess and every reveal is there."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(data), f"w{k}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(4)
    ]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    saved = load_predictions(data)
    assert len(saved) == 60
    assert {(s.name, s.value, s.measured) for s in saved} == {
        (f"w{k}_{i}", float(i), float(i + 1)) for k in range(4) for i in range(15)
    }


def test_the_docs_show_real_output(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/predictions.md's example guess and reveal are what the calls print."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "predictions.md").read_text()
    p = Predictions("01", data_dir=data)
    p.guess("p99_first_sample", 0.5, low=0.2, high=1.0, unit="s")
    p.reveal("p99_first_sample", 1.2345)
    printed = capsys.readouterr().out
    Predictions("01", data_dir=data).reveal("p99_first_sample", 1.2345)
    printed += capsys.readouterr().out
    for line in printed.splitlines():
        assert line in doc, f"docs/predictions.md does not show {line!r}"


def _nb(*cells: tuple[str, list[str]], lesson: str | None = "01") -> dict[str, object]:
    meta = {"perflab": {"course": {"id": lesson}}} if lesson else {}
    return {
        "metadata": meta,
        "cells": [
            {"cell_type": "code", "source": src, "metadata": {"tags": tags}} for src, tags in cells
        ],
    }


_SETUP = ('from perflab.predict import Predictions\npredictions = Predictions("01")', [])
_GUESS = ('predictions.guess("p99", None, low=None, high=None, unit="s")', ["predict"])
_REVEAL = ('%time p99 = 1.0\npredictions.reveal("p99", p99)', [])


def test_a_well_formed_lesson_has_no_prediction_problems() -> None:
    """Setup, a tagged guess shipped with None, and a later reveal: nothing to report."""
    assert notebook_problems(_nb(_SETUP, _GUESS, _REVEAL)) == []


@pytest.mark.parametrize(
    ("cells", "lesson", "problem"),
    [
        ((_SETUP, (_GUESS[0], []), _REVEAL), "01", "not tagged 'predict'"),
        ((_SETUP, ('predictions.guess("p99", 0.5)', ["predict"]), _REVEAL), "01", "must hold None"),
        ((_SETUP, _GUESS), "01", "never revealed"),
        ((_SETUP, _REVEAL), "01", "no guess asked before it"),
        ((_SETUP, _GUESS, _GUESS, _REVEAL), "01", "asked again"),
        ((_SETUP, ("x = 1", ["predict"]), _GUESS, _REVEAL), "01", "asks for no guess"),
        ((_SETUP, _GUESS, _REVEAL), "02", "metadata.perflab.course.id is '02'"),
        ((_SETUP, ("predictions.guess(NAME, None)", ["predict"])), "01", "literal string"),
    ],
    ids=["untagged", "shipped-guess", "no-reveal", "no-guess", "twice", "empty-tag", "id", "name"],
)
def test_a_malformed_prediction_cell_is_reported(
    cells: tuple[tuple[str, list[str]], ...], lesson: str, problem: str
) -> None:
    """Each broken rule gives a message naming the cell and what is wrong."""
    problems = notebook_problems(_nb(*cells, lesson=lesson), "lesson.ipynb")
    assert any(problem in p and p.startswith("lesson.ipynb: ") for p in problems), problems


def test_every_lesson_s_prediction_cells_are_well_formed() -> None:
    """Every notebook in notebooks/ follows the prediction rules (tagged, None, revealed)."""
    import json

    root = Path(__file__).resolve().parents[1]
    problems = []
    for path in sorted((root / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        problems += notebook_problems(nb, path.relative_to(root).as_posix())
    assert not problems
