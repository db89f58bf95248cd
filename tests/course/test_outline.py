"""The outline in the notebooks' metadata: complete, consistent, and strict about bad input."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from perflab.course.outline import LEVELS, Outline, OutlineError, lesson_paths, load_outline

from .conftest import ROOT


def _edit(path: Path, change: Any) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    change(nb["metadata"]["perflab"]["course"])
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def test_every_lesson_notebook_has_an_entry(outline: Outline) -> None:
    """Each lesson notebook on disk is one lesson of the outline."""
    on_disk = {p.relative_to(ROOT).as_posix() for p in lesson_paths(ROOT)}
    assert {les.path for les in outline.lessons} == on_disk
    assert outline.lessons[0].id == "00" and outline.lessons[0].level == "welcome"


def test_lessons_are_in_order_and_levels_do_not_go_back(outline: Outline) -> None:
    """Lessons are sorted by order, and the levels run welcome, beginner, intermediate, advanced."""
    orders = [les.order for les in outline.lessons]
    assert orders == sorted(orders)
    ranks = [LEVELS.index(les.level) for les in outline.lessons]
    assert ranks == sorted(ranks)


def test_each_lesson_sits_in_its_levels_folder(outline: Outline) -> None:
    """A beginner lesson lives in notebooks/beginner/, and so on."""
    for les in outline.lessons[1:]:
        assert les.path.startswith(f"notebooks/{les.level}/"), les.path


def test_entries_have_real_content(outline: Outline) -> None:
    """Questions (1-3), objectives and keypoints are present and no two lessons share them."""
    seen: set[str] = set()
    for les in outline.lessons:
        assert 1 <= len(les.questions) <= 3
        assert les.objectives and les.keypoints
        for text in les.questions + les.objectives + les.keypoints:
            assert text not in seen, f"{les.id} repeats {text!r}"
            seen.add(text)


def _without_exercise(outline: Outline) -> list[str]:
    """Lessons but the welcome that lack an exercise, or whose exercise or solution is missing.

    The first half of a split lesson (08, whose second half is 08b) may have none: the
    exercise practises both halves, so it follows the second, which names it.
    """
    lacking = []
    for les in outline.lessons[1:]:
        after = outline.next(les.id)
        first_half = (
            les.exercise is None
            and les.exercise_min == 0
            and after is not None
            and after.id == les.id + "b"
            and after.exercise is not None
            and les.id in after.prerequisite_lessons
        )
        files = [les.exercise, les.solution]
        if not first_half and not all(p and (outline.root / p).is_file() for p in files):
            lacking.append(les.id)
    return lacking


def test_every_lesson_but_the_welcome_has_an_exercise(outline: Outline) -> None:
    """Each lesson names its exercise, the file exists, and so does its solution."""
    assert _without_exercise(outline) == []


def test_a_lesson_without_an_exercise_is_caught(course_copy: Path) -> None:
    """Lesson 03 naming no exercise is reported: it is not the first half of a split lesson."""
    path = course_copy / "notebooks/beginner/03_cache_statistics.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["perflab"]["course"].update(
        exercise=None, minutes={"teaching": 60, "exercises": 0}
    )
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert _without_exercise(load_outline(course_copy)) == ["03"]


def test_exercise_notebooks_name_their_lesson_and_its_minutes(outline: Outline) -> None:
    """Each exercise and solution points back to the lesson that names it, with the same minutes."""
    assert outline.orphans == ()
    named = {les.exercise: les for les in outline.lessons if les.exercise}
    for path, entry in outline.exercises.items():
        exercise = "exercises/" + Path(path).name
        assert exercise in named, f"{path}: no lesson names {exercise}"
        lesson = named[exercise]
        assert entry.lesson == lesson.id, path
        assert entry.minutes == lesson.exercise_min, path
    assert len(outline.exercises) == 2 * len(named)


def test_prev_and_next_follow_the_order(outline: Outline) -> None:
    """previous/next walk the lessons in order, with None at both ends."""
    ids = [les.id for les in outline.lessons]
    assert outline.previous(ids[0]) is None and outline.next(ids[-1]) is None
    for before, after in itertools.pairwise(ids):
        assert outline.next(before).id == after  # type: ignore[union-attr]
        assert outline.previous(after).id == before  # type: ignore[union-attr]


def test_an_id_like_05b_sorts_by_order_not_by_name(course_copy: Path) -> None:
    """A lesson's place comes from ``order``: moving 04 after 05 moves it in the outline."""
    _edit(course_copy / "notebooks/beginner/04_resource_usage.ipynb", lambda c: c.update(order=51))
    _edit(
        course_copy / "notebooks/beginner/04_resource_usage.ipynb",
        lambda c: c.update(level="intermediate"),
    )
    ids = [les.id for les in load_outline(course_copy).lessons]
    assert ids.index("04") == ids.index("05") + 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(level="expert"), "level is 'expert'; allowed: welcome, beginner"),
        (lambda c: c.update(questions=[]), "questions must be a list of 1 to 3"),
        (
            lambda c: c.update(questions=["a?", "b?", "c?", "d?"]),
            "questions must be a list of 1 to 3",
        ),
        (lambda c: c["minutes"].update(teaching="45"), "minutes.teaching is '45'"),
        (lambda c: c.update(order=10.5), "order is 10.5"),
        (lambda c: c.pop("keypoints"), "lacks keypoints"),
        (lambda c: c.update(exercise="solutions/01_percentiles.ipynb"), "exercises/<name>.ipynb"),
        (lambda c: c["prerequisites"].update(lessons=["02"]), "prerequisite '02' comes later"),
        (lambda c: c["prerequisites"].update(lessons=["99"]), "prerequisite '99' is not a lesson"),
        (lambda c: c.update(order=20), "share order 20"),
        (lambda c: c.update(id="02"), "two lessons have the id '02'"),
    ],
)
def test_bad_metadata_is_refused_with_a_clear_message(
    course_copy: Path, change: Any, message: str
) -> None:
    """A malformed entry names the notebook and what is wrong with it."""
    _edit(course_copy / "notebooks/beginner/01_measure_first.ipynb", change)
    with pytest.raises(OutlineError) as caught:
        load_outline(course_copy)
    assert message in str(caught.value)


def test_a_lesson_without_an_entry_is_named(course_copy: Path) -> None:
    """A lesson notebook with no course metadata stops the outline, naming the file."""
    path = course_copy / "notebooks/advanced/15_capstone.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    del nb["metadata"]["perflab"]["course"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    with pytest.raises(OutlineError, match="notebooks/advanced/15_capstone.ipynb: no metadata"):
        load_outline(course_copy)


def test_a_missing_exercise_stops_the_generator_not_the_outline(course_copy: Path) -> None:
    """A copy may lack exercises (a room copy); the generator refuses to link to them."""
    from perflab.course.generate import out_of_step

    _edit(
        course_copy / "notebooks/beginner/01_measure_first.ipynb",
        lambda c: c.update(exercise="exercises/nope.ipynb"),
    )
    outline = load_outline(course_copy)
    assert outline.missing_files() == ["exercises/nope.ipynb", "solutions/nope.ipynb"]
    with pytest.raises(OutlineError, match="do not exist: exercises/nope.ipynb"):
        out_of_step(course_copy)


def test_a_room_copy_without_solutions_still_has_an_outline(course_copy: Path) -> None:
    """With solutions/ gone and only some exercises left, the outline still loads."""
    shutil.rmtree(course_copy / "solutions")
    for path in (course_copy / "exercises").glob("1*.ipynb"):
        path.unlink()
    outline = load_outline(course_copy)
    assert len(outline.lessons) == len(lesson_paths(ROOT))
    assert "exercises/15_capstone.ipynb" in outline.missing_files()
