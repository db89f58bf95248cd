"""The course outline, read from the notebooks' metadata (the one place it is written).

A lesson notebook holds its own entry in ``metadata.perflab.course``::

    {"id": "01", "title": "Measure first: ...", "level": "beginner", "order": 1,
     "minutes": {"teaching": 40, "exercises": 45},
     "prerequisites": {"lessons": ["00"], "python": "functions, loops, lists"},
     "questions": ["Is one timing a measurement?"],
     "objectives": ["time a piece of code with warm-up and repetitions"],
     "keypoints": ["One timing is not a measurement: ..."],
     "exercise": "exercises/01_percentiles.ipynb"}

and an exercise or solution notebook holds ``{"lesson": "01", "minutes": 45}``. Lessons are
put in order by ``order``, never by file name, so a lesson such as ``05b`` can sit between
two others. Paths are relative to the curriculum root (the folder holding notebooks/,
exercises/ and solutions/), so an outline reads the same from a checkout and from the
wheel's packaged copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.errors import PerflabError

__all__ = [
    "LEVELS",
    "ExerciseEntry",
    "Lesson",
    "Outline",
    "OutlineError",
    "count_predictions",
    "exercise_paths",
    "lesson_paths",
    "load_outline",
    "read_json",
]

#: The levels in course order; the welcome notebook has its own.
LEVELS = ("welcome", "beginner", "intermediate", "advanced")
_LESSON_FOLDERS = ("beginner", "intermediate", "advanced")
_LESSON_KEYS = (
    "id",
    "title",
    "level",
    "order",
    "minutes",
    "prerequisites",
    "questions",
    "objectives",
    "keypoints",
    "exercise",
)


class OutlineError(PerflabError):
    """A notebook's course metadata is missing or not what the outline allows."""


OutlineError.__module__ = "perflab.course"


@dataclass(frozen=True)
class Lesson:
    """One lesson's outline entry.

    Attributes:
        id: the lesson id, e.g. ``"01"`` or ``"05b"``.
        title: the title without the id (``"Measure first: ..."``).
        level: one of ``LEVELS``.
        order: the lesson's place in the course (lessons are sorted by it).
        teaching_min: minutes of teaching the lesson states.
        exercise_min: minutes its exercise takes (0 when it has none).
        prerequisite_lessons: ids of the lessons to do first.
        python: the Python the learner needs, in words.
        questions: the 1-3 questions the lesson answers.
        objectives: what the learner will be able to do (each completes
            "you will be able to ...").
        keypoints: what to remember.
        exercise: the exercise notebook's path from the curriculum root, or None.
        path: the lesson notebook's path from the curriculum root.
        predictions: how many cells of the lesson are tagged ``predict``.
    """

    id: str
    title: str
    level: str
    order: int
    teaching_min: int
    exercise_min: int
    prerequisite_lessons: tuple[str, ...]
    python: str
    questions: tuple[str, ...]
    objectives: tuple[str, ...]
    keypoints: tuple[str, ...]
    exercise: str | None
    path: str
    predictions: int

    @property
    def label(self) -> str:
        """``"01 · Measure first: ..."``: how links and tables name the lesson."""
        return f"{self.id} · {self.title}"

    @property
    def solution(self) -> str | None:
        """The solution's path from the curriculum root, or None without an exercise."""
        return None if self.exercise is None else "solutions/" + Path(self.exercise).name


@dataclass(frozen=True)
class ExerciseEntry:
    """An exercise or solution notebook's outline entry.

    Attributes:
        path: the notebook's path from the curriculum root.
        lesson: the id of the lesson it belongs to.
        minutes: the minutes it states.
        role: ``"exercise"`` (in exercises/) or ``"solution"`` (in solutions/).
    """

    path: str
    lesson: str
    minutes: int
    role: str


@dataclass(frozen=True)
class Outline:
    """Every lesson in course order, and the exercise and solution notebooks.

    Attributes:
        root: the curriculum root the paths are relative to.
        lessons: the lessons, sorted by ``order``.
        exercises: the exercise and solution notebooks, by path.
        orphans: exercise or solution notebooks whose lesson is not (yet) in the outline;
            they are left out of ``exercises`` (a finished course has none).
    """

    root: Path
    lessons: tuple[Lesson, ...]
    exercises: dict[str, ExerciseEntry]
    orphans: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[Lesson]:
        return iter(self.lessons)

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson with this id.

        Raises:
            KeyError: no lesson has it.
        """
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)

    def previous(self, lesson_id: str) -> Lesson | None:
        """The lesson before this one in course order, or None for the first."""
        index = self._index(lesson_id)
        return self.lessons[index - 1] if index > 0 else None

    def next(self, lesson_id: str) -> Lesson | None:
        """The lesson after this one in course order, or None for the last."""
        index = self._index(lesson_id)
        return self.lessons[index + 1] if index + 1 < len(self.lessons) else None

    def next_with_exercise(self, lesson_id: str) -> Lesson | None:
        """The first lesson after this one that has an exercise, or None."""
        index = self._index(lesson_id)
        return next((les for les in self.lessons[index + 1 :] if les.exercise), None)

    def by_level(self, level: str) -> tuple[Lesson, ...]:
        """The lessons of one level, in course order."""
        return tuple(les for les in self.lessons if les.level == level)

    def lesson_of_exercise(self, path: str) -> Lesson:
        """The lesson an exercise or solution notebook (path from the root) belongs to."""
        return self.lesson(self.exercises[path].lesson)

    def missing_files(self) -> list[str]:
        """Exercises and solutions the lessons name that are not on disk.

        A learner's copy may lack some on purpose (a room copy has no solutions, and may
        hold only some exercises); the repository must have them all.
        """
        named = [p for les in self.lessons for p in (les.exercise, les.solution) if p]
        return [p for p in named if not (self.root / p).is_file()]

    def _index(self, lesson_id: str) -> int:
        for index, lesson in enumerate(self.lessons):
            if lesson.id == lesson_id:
                return index
        raise KeyError(lesson_id)


def read_json(path: Path) -> dict[str, Any]:
    """A notebook file as plain JSON (faster than nbformat, enough to read metadata)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutlineError(f"{path}: not a readable notebook ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise OutlineError(f"{path}: not a notebook (no cells list)")
    return data


def _visible(paths: Iterator[Path]) -> list[Path]:
    return sorted(p for p in paths if ".ipynb_checkpoints" not in p.parts)


def lesson_paths(root: Path) -> list[Path]:
    """The lesson notebooks: notebooks/00_welcome.ipynb and notebooks/<level>/*.ipynb."""
    found = [root / "notebooks" / "00_welcome.ipynb"]
    found = [p for p in found if p.is_file()]
    for folder in _LESSON_FOLDERS:
        found += _visible((root / "notebooks" / folder).glob("*.ipynb"))
    return found


def exercise_paths(root: Path) -> list[Path]:
    """The exercise and solution notebooks: exercises/*.ipynb and solutions/*.ipynb."""
    return _visible((root / "exercises").glob("*.ipynb")) + _visible(
        (root / "solutions").glob("*.ipynb")
    )


def count_predictions(nb: dict[str, Any]) -> int:
    """How many cells of a notebook are tagged ``predict``."""
    return sum(1 for c in nb["cells"] if "predict" in c.get("metadata", {}).get("tags", []))


def _no_course(nb: dict[str, Any]) -> bool:
    return "course" not in nb.get("metadata", {}).get("perflab", {})


def _course_meta(nb: dict[str, Any], where: str) -> dict[str, Any]:
    meta = nb.get("metadata", {}).get("perflab", {}).get("course")
    if not isinstance(meta, dict):
        raise OutlineError(f"{where}: no metadata.perflab.course entry (see docs/course.md)")
    return meta


def _need(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise OutlineError(f"{where}: {what} is {value!r}; it must be a {names}")
    return value


def _strings(value: Any, where: str, what: str, low: int, high: int) -> tuple[str, ...]:
    items = _need(value, list, where, what)
    if not low <= len(items) <= high or not all(isinstance(s, str) and s.strip() for s in items):
        raise OutlineError(
            f"{where}: {what} must be a list of {low} to {high} non-empty strings, got {items!r}"
        )
    return tuple(items)


def _parse_lesson(meta: dict[str, Any], where: str, path: str, predictions: int) -> Lesson:
    missing = [k for k in _LESSON_KEYS if k not in meta]
    if missing:
        raise OutlineError(f"{where}: metadata.perflab.course lacks {', '.join(missing)}")
    level = meta["level"]
    if level not in LEVELS:
        raise OutlineError(f"{where}: level is {level!r}; allowed: {', '.join(LEVELS)}")
    minutes = _need(meta["minutes"], dict, where, "minutes")
    teaching = _need(minutes.get("teaching"), int, where, "minutes.teaching")
    exercises = _need(minutes.get("exercises"), int, where, "minutes.exercises")
    if teaching <= 0 or exercises < 0:
        raise OutlineError(f"{where}: minutes must be teaching > 0 and exercises >= 0")
    prereq = _need(meta["prerequisites"], dict, where, "prerequisites")
    exercise = meta["exercise"]
    if exercise is not None:
        _need(exercise, str, where, "exercise")
        if not (exercise.startswith("exercises/") and exercise.endswith(".ipynb")):
            raise OutlineError(
                f"{where}: exercise is {exercise!r}; it must be exercises/<name>.ipynb or null"
            )
    return Lesson(
        id=_need(meta["id"], str, where, "id"),
        title=_need(meta["title"], str, where, "title"),
        level=level,
        order=_need(meta["order"], int, where, "order"),
        teaching_min=teaching,
        exercise_min=exercises,
        prerequisite_lessons=_strings(
            prereq.get("lessons", []), where, "prerequisites.lessons", 0, 99
        ),
        python=_need(prereq.get("python"), str, where, "prerequisites.python"),
        questions=_strings(meta["questions"], where, "questions", 1, 3),
        objectives=_strings(meta["objectives"], where, "objectives", 1, 99),
        keypoints=_strings(meta["keypoints"], where, "keypoints", 1, 99),
        exercise=exercise,
        path=path,
        predictions=predictions,
    )


def _check_links(lessons: list[Lesson]) -> None:
    ids = [les.id for les in lessons]
    for lesson_id in set(ids):
        if ids.count(lesson_id) > 1:
            raise OutlineError(f"two lessons have the id {lesson_id!r}")
    orders = [les.order for les in lessons]
    for order in set(orders):
        if orders.count(order) > 1:
            clash = [les.path for les in lessons if les.order == order]
            raise OutlineError(f"lessons {', '.join(clash)} share order {order}")
    seen: set[str] = set()
    for les in lessons:
        for pre in les.prerequisite_lessons:
            if pre not in ids:
                raise OutlineError(f"{les.path}: prerequisite {pre!r} is not a lesson id")
            if pre not in seen:
                raise OutlineError(f"{les.path}: prerequisite {pre!r} comes later in the course")
        seen.add(les.id)


def load_outline(root: Path | None = None) -> Outline:
    """Read the outline from the notebooks under ``root`` (default: the curriculum root).

    Raises:
        OutlineError: a notebook's course metadata is missing or malformed, two lessons
            share an id or an order, or a prerequisite or exercise does not exist. The
            message names the notebook and the field.
    """
    if root is None:
        from perflab.paths import curriculum_root

        root = curriculum_root()
    lessons = []
    for path in lesson_paths(root):
        rel = path.relative_to(root).as_posix()
        nb = read_json(path)
        lessons.append(_parse_lesson(_course_meta(nb, rel), rel, rel, count_predictions(nb)))
    exercises: dict[str, ExerciseEntry] = {}
    for path in exercise_paths(root):
        rel = path.relative_to(root).as_posix()
        nb = read_json(path)
        solution = root / "solutions" / path.name
        if rel.startswith("exercises/") and _no_course(nb) and solution.is_file():
            nb = read_json(solution)  # a stale exercise: its solution (its source) says
        meta = _course_meta(nb, rel)
        exercises[rel] = ExerciseEntry(
            path=rel,
            lesson=_need(meta.get("lesson"), str, rel, "lesson"),
            minutes=_need(meta.get("minutes"), int, rel, "minutes"),
            role="exercise" if rel.startswith("exercises/") else "solution",
        )
    lessons.sort(key=lambda les: les.order)
    _check_links(lessons)
    ids = {les.id for les in lessons}
    orphans = tuple(p for p, e in exercises.items() if e.lesson not in ids)
    for orphan in orphans:
        del exercises[orphan]
    return Outline(root=root, lessons=tuple(lessons), exercises=exercises, orphans=orphans)
