"""Generated cells: current with the metadata, rewritten in place, and nothing else touched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perflab.course.generate import out_of_step, write

from .conftest import ROOT


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _save(path: Path, nb: dict[str, Any]) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _generated(nb: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in nb["cells"] if c["metadata"].get("perflab", {}).get("generated") == kind]


def test_the_repository_is_in_step() -> None:
    """No lesson, exercise, solution or README table differs from what the outline generates."""
    assert out_of_step(ROOT) == []


def test_every_notebook_has_one_header_and_one_footer() -> None:
    """Lessons open with their header; exercises have theirs second; footers close them."""
    lessons = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    exercises = sorted((ROOT / "exercises").glob("*.ipynb")) + sorted(
        (ROOT / "solutions").glob("*.ipynb")
    )
    for path in lessons + exercises:
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = _load(path)
        assert len(_generated(nb, "header")) == 1 and len(_generated(nb, "footer")) == 1, path
        at = 0 if path in lessons else 1
        assert nb["cells"][at]["metadata"]["perflab"]["generated"] == "header", path
        # the footer is last, or followed only by code (an exercise's own check cell)
        at_footer = next(
            i
            for i, c in enumerate(nb["cells"])
            if c["metadata"].get("perflab", {}).get("generated") == "footer"
        )
        assert all(c["cell_type"] == "code" for c in nb["cells"][at_footer + 1 :]), path


def test_a_keypoint_changed_in_metadata_makes_the_footer_stale(course_copy: Path) -> None:
    """Editing the metadata without regenerating is caught, and regenerating fixes it."""
    path = course_copy / "notebooks/beginner/02_find_the_bottleneck.ipynb"
    nb = _load(path)
    nb["metadata"]["perflab"]["course"]["keypoints"][0] = "A brand-new keypoint."
    _save(path, nb)
    assert path in out_of_step(course_copy)
    written = write(course_copy)
    assert path in written
    assert "* A brand-new keypoint." in "".join(_generated(_load(path), "footer")[0]["source"])
    assert out_of_step(course_copy) == []


def test_a_hand_edited_generated_cell_is_caught(course_copy: Path) -> None:
    """A generated cell edited by hand drifts from the metadata and is reported."""
    path = course_copy / "notebooks/advanced/12_scaling_and_load_balancing.ipynb"
    nb = _load(path)
    _generated(nb, "header")[0]["source"] = "# 12 · Scaling\n\nAbout 5 minutes."
    _save(path, nb)
    assert out_of_step(course_copy) == [path]


def test_a_stale_exercise_is_caught(course_copy: Path) -> None:
    """An exercise whose footer differs from its solution's exercise wording is reported."""
    path = course_copy / "exercises/03_cache_economics.ipynb"
    nb = _load(path)
    _generated(nb, "footer")[0]["source"] = "---\n\nNothing to see."
    _save(path, nb)
    assert path in out_of_step(course_copy)


def test_generating_twice_changes_nothing_and_keeps_other_cells(course_copy: Path) -> None:
    """After one run a second writes nothing, and only generated cells ever change."""
    write(course_copy)
    before = {p: p.read_text(encoding="utf-8") for p in course_copy.rglob("*.ipynb")}
    assert write(course_copy) == []
    assert before == {p: p.read_text(encoding="utf-8") for p in course_copy.rglob("*.ipynb")}
    for path in before:
        original = ROOT / path.relative_to(course_copy)
        strip = lambda nb: [
            c for c in nb["cells"] if not c["metadata"].get("perflab", {}).get("generated")
        ]
        assert strip(_load(path)) == strip(_load(original)), path


def test_a_missing_header_is_put_back_first(course_copy: Path) -> None:
    """Deleting a lesson's header and regenerating restores it as the first cell, title included."""
    path = course_copy / "notebooks/beginner/04_resource_usage.ipynb"
    nb = _load(path)
    nb["cells"] = [c for c in nb["cells"] if c not in _generated(nb, "header")]
    _save(path, nb)
    write(course_copy)
    first = _load(path)["cells"][0]
    assert first["metadata"]["perflab"]["generated"] == "header"
    assert "".join(first["source"]).startswith("# 04 · Resource usage")


def test_the_welcome_table_lists_every_lesson_with_its_times(outline: Any) -> None:
    """00_welcome's generated table has a row per lesson with its stated minutes."""
    from perflab.course.cells import format_minutes

    nb = _load(ROOT / "notebooks/00_welcome.ipynb")
    table = "".join(_generated(nb, "outline")[0]["source"])
    for les in outline.lessons[1:]:
        row = next(line for line in table.splitlines() if line.startswith(f"| {les.id} |"))
        assert format_minutes(les.teaching_min) in row
        if les.exercise:
            assert format_minutes(les.exercise_min) in row
        else:  # the first half of a split lesson: its exercise is the second half's
            assert row.endswith("| none |"), row
