"""The learner's progress: the last ``perflab check`` result of each exercise.

``perflab check exercises/01_percentiles.ipynb`` calls :func:`record_reports`, which keeps,
per lesson, the verdict of the last check of that lesson's exercise in
``<data folder>/progress.json`` (see :func:`perflab.paths.data_dir`). ``perflab course``
reads it back with :func:`load_progress`.

Only notebooks named one by one are recorded: a folder of submissions is a teacher grading
a room, whose results are not the teacher's own progress. The file is written whole to a
temporary file and then renamed over the old one, so a crash never leaves half a file; a
file that cannot be read is kept beside the new one (``progress.json.unreadable``), never
silently dropped. A failure to record never fails the check itself.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.grading.results import NotebookReport

__all__ = ["PROGRESS_FILE", "ExerciseProgress", "load_progress", "record", "record_reports"]

PROGRESS_FILE = "progress.json"
_VERSION = 1


@dataclass(frozen=True)
class ExerciseProgress:
    """The last check of one lesson's exercise.

    Attributes:
        lesson: the lesson id (``"01"``).
        notebook: the path that was checked, as the learner typed it.
        status: ``"passed"`` when every exercise of the notebook passed, else ``"failed"``.
        passed: how many of its exercises passed.
        total: how many exercises it has.
        checked_at: when, as an ISO 8601 UTC time.
    """

    lesson: str
    notebook: str
    status: str
    passed: int
    total: int
    checked_at: str


def _folder(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return data_dir
    from perflab.paths import data_dir as default

    return default()


def _read(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
        raise TypeError("not a perflab progress file")
    return data


def load_progress(data_dir: Path | None = None) -> dict[str, ExerciseProgress]:
    """The last check of each lesson's exercise, by lesson id ({} when none is recorded)."""
    path = _folder(data_dir) / PROGRESS_FILE
    if not path.is_file():
        return {}
    try:
        entries = _read(path)["exercises"]
        return {lesson: ExerciseProgress(**entry) for lesson, entry in entries.items()}
    except (OSError, ValueError, TypeError):
        return {}


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(entries: Iterable[ExerciseProgress], data_dir: Path | None = None) -> Path:
    """Merge these results into the progress file (one per lesson, the newest wins).

    Returns:
        The progress file's path.
    """
    path = _folder(data_dir) / PROGRESS_FILE
    data: dict[str, Any] = {"version": _VERSION, "exercises": {}}
    if path.is_file():
        try:
            data = _read(path)
        except (OSError, ValueError, TypeError):
            # keep what cannot be read, for the learner to look at, and start afresh
            os.replace(path, path.with_name(PROGRESS_FILE + ".unreadable"))
    for entry in entries:
        data["exercises"][entry.lesson] = asdict(entry)
    _write_atomically(path, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return path


def _lesson_of(notebook: Path) -> str | None:
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        lesson = nb["metadata"]["perflab"]["course"]["lesson"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return lesson if isinstance(lesson, str) else None


def entries_from_reports(
    reports: Sequence[NotebookReport], now: datetime | None = None
) -> list[ExerciseProgress]:
    """One progress entry per report whose notebook names its lesson."""
    from perflab.grading.results import NOTEBOOK_ROW

    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    entries = []
    for report in reports:
        lesson = _lesson_of(Path(report.path))
        if lesson is None:
            continue
        rows = [r for r in report.results if r.exercise != NOTEBOOK_ROW]
        passed = sum(r.status.is_ok for r in rows)
        ok = bool(rows) and all(r.status.is_ok for r in report.results)
        entries.append(
            ExerciseProgress(
                lesson=lesson,
                notebook=str(report.path),
                status="passed" if ok else "failed",
                passed=passed,
                total=len(rows),
                checked_at=stamp,
            )
        )
    return entries


def record_reports(
    reports: Sequence[NotebookReport], paths: Sequence[str], data_dir: Path | None = None
) -> None:
    """What ``perflab check`` calls: record the learner's own checks, never fail the check.

    Args:
        reports: the check's reports.
        paths: the command line's paths; when one is a folder (a room), nothing is recorded.
        data_dir: the data folder (default: :func:`perflab.paths.data_dir`).
    """
    if any(Path(p).is_dir() for p in paths):
        return
    try:
        entries = entries_from_reports(reports)
        if entries:
            record(entries, data_dir)
    except (OSError, ValueError, TypeError) as exc:  # a convenience: the verdict stands
        print(f"perflab: could not record your progress: {exc}", file=sys.stderr)
