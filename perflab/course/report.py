"""The outline beside the learner's progress: what ``perflab course`` prints.

:func:`course_data` builds the data (``perflab course --json`` prints it, docs/course.md
documents every field) and :func:`format_course` the table for people. Predictions come
from :mod:`perflab.predict` when it is installed and readable; without it the course still
prints, with the predictions left out and a note saying why.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.course.cells import format_minutes, level_totals
from perflab.course.outline import Lesson, Outline
from perflab.course.progress import ExerciseProgress, load_progress

__all__ = ["Learner", "course_data", "format_course", "load_learner"]

_COURSE_LEVELS = ("beginner", "intermediate", "advanced")


@dataclass(frozen=True)
class Learner:
    """What the learner has done: last checks, and predictions made.

    Attributes:
        checks: the last ``perflab check`` of each lesson's exercise, by lesson id.
        predictions: the learner's predictions (``perflab.predict.Prediction``), or None
            when they could not be read (``note`` says why).
        note: why predictions are missing, or "".
    """

    checks: dict[str, ExerciseProgress]
    predictions: list[Any] | None
    note: str = ""


def load_learner(data_dir: Path | None = None) -> Learner:
    """Read the learner's progress and predictions from the data folder."""
    checks = load_progress(data_dir)
    try:
        from perflab.predict import PredictionsFileError, load_predictions
    except ImportError:
        return Learner(checks, None, "predictions: perflab.predict is not available")
    try:
        return Learner(checks, list(load_predictions(data_dir)))
    except (PredictionsFileError, OSError, sqlite3.Error) as exc:  # say so, show the rest
        return Learner(checks, None, f"predictions could not be read: {exc}")


def _calibration(predictions: list[Any]) -> dict[str, Any] | None:
    try:
        from perflab.predict import calibration
    except ImportError:
        return None
    summary = calibration(predictions)
    return {
        "count": summary.count,
        "median_ratio": summary.median_ratio,
        "in_range_rate": summary.in_range_rate,
        "description": summary.describe() if hasattr(summary, "describe") else "",
    }


def _progress(lesson: Lesson, learner: Learner, made: Counter[str]) -> dict[str, Any]:
    check = learner.checks.get(lesson.id)
    return {
        "exercise": None
        if check is None
        else {
            "status": check.status,
            "passed": check.passed,
            "total": check.total,
            "checked_at": check.checked_at,
        },
        "predictions_made": None if learner.predictions is None else made[lesson.id],
    }


def course_data(outline: Outline, learner: Learner | None = None) -> dict[str, Any]:
    """The outline as plain data, in course order, with the learner's progress."""
    learner = learner or Learner({}, [])
    made: Counter[str] = Counter(
        p.lesson for p in (learner.predictions or []) if not getattr(p, "hindsight", False)
    )
    lessons = []
    for lesson in outline.lessons:
        before, after = outline.previous(lesson.id), outline.next(lesson.id)
        lessons.append(
            {
                "id": lesson.id,
                "title": lesson.title,
                "level": lesson.level,
                "order": lesson.order,
                "path": lesson.path,
                "exercise": lesson.exercise,
                "solution": lesson.solution,
                "minutes": {"teaching": lesson.teaching_min, "exercises": lesson.exercise_min},
                "prerequisites": {
                    "lessons": list(lesson.prerequisite_lessons),
                    "python": lesson.python,
                },
                "questions": list(lesson.questions),
                "objectives": list(lesson.objectives),
                "keypoints": list(lesson.keypoints),
                "predictions": lesson.predictions,
                "prev": before.id if before else None,
                "next": after.id if after else None,
                "progress": _progress(lesson, learner, made),
            }
        )
    levels = {}
    for level in _COURSE_LEVELS:
        teaching, exercises = level_totals(outline, level)
        levels[level] = {
            "lessons": len(outline.by_level(level)),
            "minutes": {"teaching": teaching, "exercises": exercises},
        }
    return {
        "lessons": lessons,
        "levels": levels,
        "minutes": {
            "teaching": sum(les.teaching_min for les in outline.lessons),
            "exercises": sum(les.exercise_min for les in outline.lessons),
        },
        "calibration": None if learner.predictions is None else _calibration(learner.predictions),
    }


def _status(item: dict[str, Any]) -> str:
    if item["exercise"] is None:
        return "-"
    check = item["progress"]["exercise"]
    if check is None:
        return "not checked"
    return f"{check['status']} {check['passed']}/{check['total']} ({check['checked_at'][:10]})"


def format_course(data: dict[str, Any], note: str = "") -> str:
    """The outline as a table for people, with totals and the learner's calibration."""
    total = data["minutes"]["teaching"] + data["minutes"]["exercises"]
    count = sum(item["level"] != "welcome" for item in data["lessons"])
    lines = [
        (
            f"The course: the welcome and {count} lessons, about {format_minutes(total)} "
            f"({format_minutes(data['minutes']['teaching'])} of teaching, "
            f"{format_minutes(data['minutes']['exercises'])} of exercises)"
        ),
        "",
        (
            f"{'#':4} {'lesson':46} {'level':13} {'teaching':>10} {'exercise':>10}  "
            f"{'your last check':28} predictions"
        ),
    ]
    for item in data["lessons"]:
        title = item["title"] if len(item["title"]) <= 46 else item["title"][:45] + "…"
        exercise = format_minutes(item["minutes"]["exercises"]) if item["exercise"] else "-"
        made = item["progress"]["predictions_made"]
        predictions = "-"  # made, of the lesson's prediction cells
        if made is not None and (made or item["predictions"]):
            predictions = f"{made} of {item['predictions']}"
        lines.append(
            f"{item['id']:4} {title:46} {item['level']:13} "
            f"{format_minutes(item['minutes']['teaching']):>10} {exercise:>10}  "
            f"{_status(item):28} {predictions}"
        )
    lines.append("")
    for level, info in data["levels"].items():
        minutes = info["minutes"]
        lines.append(
            f"{level:13} {info['lessons']} lessons, about "
            f"{format_minutes(minutes['teaching'] + minutes['exercises'])}"
        )
    calibration = data["calibration"]
    lines.append("")
    if calibration is not None:
        lines.append(
            "Your predictions: " + (calibration["description"] or f"{calibration['count']} made")
        )
    elif note:
        lines.append(note)
    todo = [
        item
        for item in data["lessons"]
        if item["exercise"] and (item["progress"]["exercise"] or {}).get("status") != "passed"
    ]
    if todo:
        lines.append(f"Next exercise to pass: {todo[0]['exercise']} (lesson {todo[0]['id']})")
    return "\n".join(lines)
