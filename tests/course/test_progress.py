"""The learner's progress file: written by `perflab check`, transactional, never lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from perflab.course.progress import (
    PROGRESS_FILE,
    ExerciseProgress,
    load_progress,
    record,
    record_reports,
)
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, NotebookReport, Status

from .conftest import ROOT


def _entry(
    lesson: str, status: str = "passed", when: str = "2026-12-01T10:00:00+00:00"
) -> ExerciseProgress:
    return ExerciseProgress(lesson, f"exercises/{lesson}.ipynb", status, 1, 1, when)


def _report(path: Path, *statuses: Status, notebook_row: Status | None = None) -> NotebookReport:
    rows = [ExerciseResult(f"x.{i}", s, "") for i, s in enumerate(statuses)]
    if notebook_row is not None:
        rows.append(ExerciseResult(NOTEBOOK_ROW, notebook_row, "a cell raised"))
    return NotebookReport(path=str(path), learner=path.stem, results=tuple(rows))


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    """A learner's copy of exercise 01 (its metadata names lesson 01)."""
    target = tmp_path / "work" / "01_percentiles.ipynb"
    target.parent.mkdir()
    shutil.copy(ROOT / "exercises/01_percentiles.ipynb", target)
    return target


def test_record_then_load_round_trips(tmp_path: Path) -> None:
    """What is recorded is read back, one entry per lesson, the newest winning."""
    record([_entry("01", "failed"), _entry("02")], tmp_path)
    record([_entry("01", "passed", "2026-12-02T10:00:00+00:00")], tmp_path)
    progress = load_progress(tmp_path)
    assert set(progress) == {"01", "02"}
    assert progress["01"].status == "passed" and progress["01"].checked_at.startswith("2026-12-02")


def test_nothing_recorded_reads_as_empty(tmp_path: Path) -> None:
    """A data folder without a progress file has no progress (and nothing is created)."""
    assert load_progress(tmp_path) == {}
    assert not (tmp_path / PROGRESS_FILE).exists()


def test_an_unreadable_file_is_kept_aside_not_lost(tmp_path: Path) -> None:
    """A damaged progress file is moved beside the new one, byte for byte."""
    (tmp_path / PROGRESS_FILE).write_text("{not json", encoding="utf-8")
    assert load_progress(tmp_path) == {}
    record([_entry("03")], tmp_path)
    assert (tmp_path / (PROGRESS_FILE + ".unreadable")).read_text(encoding="utf-8") == "{not json"
    assert set(load_progress(tmp_path)) == {"03"}


def test_writes_leave_no_temporary_files(tmp_path: Path) -> None:
    """The file is replaced whole: after a write only progress.json is in the folder."""
    record([_entry("01")], tmp_path)
    record([_entry("02")], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [PROGRESS_FILE]
    assert json.loads((tmp_path / PROGRESS_FILE).read_text(encoding="utf-8"))["version"] == 1


def test_reports_become_entries_for_their_lesson(tmp_path: Path, exercise: Path) -> None:
    """A notebook is passed only when every row is; a broken cell fails it."""
    record_reports([_report(exercise, Status.PASSED, Status.PASSED)], [str(exercise)], tmp_path)
    assert load_progress(tmp_path)["01"].status == "passed"
    record_reports(
        [_report(exercise, Status.PASSED, notebook_row=Status.ERROR)], [str(exercise)], tmp_path
    )
    entry = load_progress(tmp_path)["01"]
    assert (entry.status, entry.passed, entry.total) == ("failed", 1, 1)


def test_a_room_folder_is_not_recorded(tmp_path: Path, exercise: Path) -> None:
    """Checking a folder of submissions (a teacher's room) leaves the progress alone."""
    record_reports([_report(exercise, Status.PASSED)], [str(exercise.parent)], tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_a_failure_to_record_never_fails_the_check(
    tmp_path: Path, exercise: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the data folder cannot be written, one line says so and nothing raises."""
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    record_reports([_report(exercise, Status.PASSED)], [str(exercise)], blocker / "data")
    assert "could not record your progress" in capsys.readouterr().err


def test_perflab_check_records_the_result(
    tmp_path: Path, exercise: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`perflab check NOTEBOOK` writes the verdict where `perflab course` reads it."""
    from perflab.cli import main
    from perflab.grading import runner

    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path / "data"))

    def fake_check_paths(paths: Any, *args: Any, **kwargs: Any) -> list[NotebookReport]:
        return [_report(Path(p), Status.PASSED, Status.FAILED) for p in paths]

    monkeypatch.setattr(runner, "check_paths", fake_check_paths)
    assert main(["check", str(exercise)]) == 1
    entry = load_progress(tmp_path / "data")["01"]
    assert (entry.status, entry.passed, entry.total) == ("failed", 1, 2)
