"""``perflab check`` end to end: solutions pass, exercises fail cleanly, batch reports."""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from perflab.cli.check import register
from perflab.grading.results import (
    NOTEBOOK_ROW,
    ExerciseResult,
    NotebookReport,
    Status,
    exit_code,
    format_table,
    to_csv,
    to_json,
    to_junit,
)
from perflab.grading.runner import CheckOptions, check_notebook

from ._helpers import exercise, notebook, references, write

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perflab")
    register(parser.add_subparsers())
    args = parser.parse_args(["check", *argv])
    return int(args.func(args))


@pytest.mark.notebooks
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_passes_with_three_seeds(path: Path) -> None:
    """Every shipped solution passes every check with three different seeds."""
    report = check_notebook(path, CheckOptions(seeds=(3, 141, 2718), timeout_s=60))
    assert report.seeds == (3, 141, 2718)
    assert report.exercises and all(r.status is Status.PASSED for r in report.results), (
        format_table([report])
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_shipped_exercise_fails_cleanly(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh exercise exits 1 (not 2), every exercise 'not done yet', after one run."""
    assert _cli([str(path), "--json", "--timeout", "60"]) == 1
    data = json.loads(capsys.readouterr().out)
    (nb,) = data["notebooks"]
    assert len(nb["seeds"]) == 1  # nothing passed, so the second seed was skipped
    rows = [r for r in nb["results"] if r["exercise"] != NOTEBOOK_ROW]
    assert rows and all(r["status"] == "failed" and "not done yet" in r["feedback"] for r in rows)


@pytest.mark.notebooks
def test_batch_folder_gives_learner_by_exercise_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder of submissions: one row per learner, a bad file doesn't stop the batch."""
    room = tmp_path / "room"
    write(notebook(*exercise("a"), *exercise("b"), exercises=["a", "b"]), room / "ana" / "ex.ipynb")
    write(
        notebook(*exercise("a"), *exercise("b", "answer_b = 0"), exercises=["a", "b"]),
        room / "ben.ipynb",
    )
    (room / "cy.ipynb").write_text("{not json")
    out = tmp_path / "results.csv"
    (refs,) = references(tmp_path / "refs", "a", "b")
    code = _cli(
        [str(room), "--seed", "5", "--workers", "2", "--timeout", "10", "--csv", str(out)]
        + ["--references", str(refs)]
    )
    assert code == 2  # cy's file could not be graded
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert set(rows) == {"ana", "ben", "cy"}
    assert (rows["ana"]["a"], rows["ana"]["b"]) == ("passed", "passed")
    assert (rows["ben"]["a"], rows["ben"]["b"]) == ("passed", "failed")
    assert "not a notebook" in rows["cy"]["notes"]
    assert "ben" in capsys.readouterr().out


def test_bad_arguments_and_empty_folders_exit_2(tmp_path: Path) -> None:
    """No notebooks, or a zero timeout, is the grader not running: exit 2."""
    assert _cli([str(tmp_path)]) == 2
    assert _cli([str(tmp_path), "--timeout", "0"]) == 2


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--timeout", "nan"], "--timeout must be a number of seconds > 0, got nan"),
        (["--run-cap", "inf"], "--run-cap must be a number of seconds > 0, got inf"),
        (["--workers", "0"], "--workers must be >= 1, got 0"),
    ],
)
def test_bad_number_is_refused_naming_flag_and_value(
    argv: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad --timeout, --run-cap or --workers exits 2 naming the flag, the value and the rule."""
    assert _cli([str(tmp_path), *argv]) == 2
    assert named in capsys.readouterr().err


def _reports() -> list[NotebookReport]:
    good = NotebookReport(
        "a.ipynb",
        "ana",
        (
            ExerciseResult("e1", Status.PASSED, "1 check passed: x", 3, 1),
            ExerciseResult(NOTEBOOK_ROW, Status.WARNING, "wrote files: x.txt"),
        ),
        (1, 2),
        2.5,
    )
    bad = NotebookReport(
        "b.ipynb",
        "ben",
        (
            ExerciseResult("e1", Status.FAILED, "got 4, too high\n  hint: halve it", 3, 2),
            ExerciseResult("e2", Status.NOT_RUN, "not run (kernel died at cell 4)"),
        ),
        (1,),
        1.0,
    )
    return [good, bad]


def test_exit_codes_follow_the_worst_row() -> None:
    """0 when all passed (warnings allowed), 1 on a failure, 2 when ungraded."""
    good, bad = _reports()
    assert exit_code([good]) == 0
    assert exit_code([good, bad]) == 1
    ungraded = NotebookReport("c", "cy", (ExerciseResult(NOTEBOOK_ROW, Status.UNGRADED, "x"),))
    assert exit_code([good, bad, ungraded]) == 2


def test_table_scopes_its_summary_to_what_ran() -> None:
    """The table lists every row and says how many passed and how many did not run."""
    table = format_table(_reports())
    assert "ben" not in table and "b.ipynb" in table and "hint: halve it" in table
    assert (
        table.splitlines()[-1]
        == "1 of 3 exercises passed their checks (2 notebooks, seeds 1, 2); 1 not run."
    )
    assert format_table(_reports()[:1]).splitlines()[-1].startswith("All checks passed: 1 exercise")


def test_json_output_round_trips() -> None:
    """JSON carries every row, the exit code and the summary."""
    data = json.loads(to_json(_reports()))
    assert data["exit_code"] == 1
    assert [r["status"] for nb in data["notebooks"] for r in nb["results"]] == [
        "passed",
        "warning",
        "failed",
        "not run",
    ]


def test_csv_is_learner_by_exercise() -> None:
    """CSV: one row per learner's notebook, one column per exercise, notes last."""
    rows = list(csv.reader(io.StringIO(to_csv(_reports()))))
    assert rows[0] == ["learner", "notebook", "e1", "e2", "passed", "notes", "predictions"]
    assert rows[1] == ["ana", "a.ipynb", "passed", "", "1/1", "warning: wrote files: x.txt", ""]
    assert rows[2][:5] == ["ben", "b.ipynb", "failed", "not run", "0/2"]


def test_csv_carries_the_learners_predictions() -> None:
    """A teacher sees what each learner guessed beside what they measured."""
    from dataclasses import replace

    from perflab.grading.results import Prediction

    guess = Prediction("e1", "the hit rate", 0.5, 0.6234)
    none = Prediction("e2", "the P99 (s)", None, 1.25)
    reports = [replace(_reports()[0], predictions=(guess, none))]
    rows = list(csv.reader(io.StringIO(to_csv(reports))))
    assert rows[1][-1] == (
        "e1 the hit rate: guessed 0.5, measured 0.6234; e2 the P99 (s): guessed nothing, "
        "measured 1.25"
    )


def test_junit_marks_failures_errors_and_skips() -> None:
    """JUnit XML: a suite per notebook, failures and skips where the rows say."""
    root = ET.fromstring(to_junit(_reports()).split("\n", 1)[1])
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["a.ipynb", "b.ipynb"]
    assert suites[1].get("failures") == "1" and suites[1].get("skipped") == "1"
    assert suites[1].find("testcase/failure").text.startswith("got 4")


def test_check_never_modifies_the_learner_file(tmp_path: Path) -> None:
    """Checking reads the notebook; its bytes are the same afterwards."""
    src = EXERCISES[0]
    path = tmp_path / src.name
    shutil.copy(src, path)
    before = path.read_bytes()
    check_notebook(path, CheckOptions(seeds=(1,), timeout_s=30))
    assert path.read_bytes() == before
