"""``perflab course`` and ``--json``: the outline in order, beside the learner's progress."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from perflab.cli import main
from perflab.course.outline import Outline
from perflab.course.progress import ExerciseProgress, record

from .conftest import ROOT

KEYS = {
    "id", "title", "level", "path", "exercise", "minutes", "prerequisites", "objectives",
    "keypoints", "predictions", "prev", "next", "progress",
}  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty learner data folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(folder))
    return folder


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["course", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def _predict_cells(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum("predict" in c["metadata"].get("tags", []) for c in nb["cells"])


def test_json_lists_every_lesson_in_order_with_the_documented_fields(
    capsys: pytest.CaptureFixture[str], data_dir: Path, outline: Outline
) -> None:
    """Each item has the fields docs/course.md lists, in outline order, read from the notebooks."""
    data = _json(capsys)
    items = data["lessons"]
    assert [i["id"] for i in items] == [les.id for les in outline.lessons]
    for item in items:
        assert KEYS <= set(item), item["id"]
        assert (ROOT / item["path"]).is_file() and not Path(item["path"]).is_absolute()
        assert item["exercise"] is None or (ROOT / item["exercise"]).is_file()
        assert item["predictions"] == _predict_cells(ROOT / item["path"])
        nb = json.loads((ROOT / item["path"]).read_text(encoding="utf-8"))
        meta = nb["metadata"]["perflab"]["course"]
        assert item["minutes"] == meta["minutes"] and item["keypoints"] == meta["keypoints"]
        assert item["prerequisites"] == meta["prerequisites"]
    for before, after in itertools.pairwise(items):
        assert before["next"] == after["id"] and after["prev"] == before["id"]
    assert items[0]["prev"] is None and items[-1]["next"] is None


def test_json_totals_add_up(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """Per-level minutes are the sums of their lessons', and the total is all lessons'."""
    data = _json(capsys)
    for level, info in data["levels"].items():
        mine = [i for i in data["lessons"] if i["level"] == level]
        assert info["lessons"] == len(mine)
        for kind in ("teaching", "exercises"):
            assert info["minutes"][kind] == sum(i["minutes"][kind] for i in mine)
    for kind in ("teaching", "exercises"):
        assert data["minutes"][kind] == sum(i["minutes"][kind] for i in data["lessons"])


def test_json_is_the_same_from_a_copy_of_the_curriculum(
    capsys: pytest.CaptureFixture[str], data_dir: Path, course_copy: Path
) -> None:
    """A learner's working copy (or the wheel's) gives the same outline, paths and all."""
    assert _json(capsys, "--root", str(course_copy)) == _json(capsys, "--root", str(ROOT))


def test_progress_shows_the_last_check(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    """A recorded check appears in the JSON and in the table; unchecked lessons say so."""
    record(
        [
            ExerciseProgress(
                "01", "exercises/01_percentiles.ipynb", "passed", 3, 3, "2026-12-01T10:00:00+00:00"
            )
        ],
        data_dir,
    )
    data = _json(capsys)
    by_id = {i["id"]: i for i in data["lessons"]}
    assert by_id["01"]["progress"]["exercise"]["status"] == "passed"
    assert by_id["02"]["progress"]["exercise"] is None
    assert main(["course"]) == 0
    text = capsys.readouterr().out
    line01 = next(line for line in text.splitlines() if line.startswith("01 "))
    line02 = next(line for line in text.splitlines() if line.startswith("02 "))
    assert "passed 3/3 (2026-12-01)" in line01 and "not checked" in line02
    assert "Next exercise to pass: exercises/02_amdahl.ipynb" in text


def test_predictions_made_and_calibration(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    """A guess and its reveal count for their lesson and in the calibration."""
    predict = pytest.importorskip("perflab.predict")
    lesson = predict.Predictions("01", data_dir=data_dir)
    lesson.guess("p99", 2.0, low=1.0, high=3.0)
    lesson.reveal("p99", 4.0)
    capsys.readouterr()
    data = _json(capsys)
    by_id = {i["id"]: i for i in data["lessons"]}
    assert by_id["01"]["progress"]["predictions_made"] == 1
    assert by_id["02"]["progress"]["predictions_made"] == 0
    assert data["calibration"]["count"] == 1
    assert data["calibration"]["median_ratio"] == pytest.approx(0.5)
    assert data["calibration"]["in_range_rate"] == 0.0


def test_without_the_predictions_module_the_course_still_prints(
    capsys: pytest.CaptureFixture[str], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If perflab.predict cannot be imported, predictions are null and the table says why."""
    monkeypatch.setitem(sys.modules, "perflab.predict", None)
    data = _json(capsys)
    assert data["calibration"] is None
    assert all(i["progress"]["predictions_made"] is None for i in data["lessons"])
    assert main(["course"]) == 0
    assert "perflab.predict is not available" in capsys.readouterr().out


def test_a_broken_outline_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], data_dir: Path, course_copy: Path
) -> None:
    """Bad metadata exits 2 with one line naming the notebook and the field."""
    path = course_copy / "notebooks/beginner/03_cache_statistics.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["metadata"]["perflab"]["course"]["level"] = "easy"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert main(["course", "--root", str(course_copy)]) == 2
    err = capsys.readouterr().err
    assert "03_cache_statistics.ipynb: level is 'easy'" in err and err.count("\n") == 1


def test_inside_a_learners_room_copy_the_copy_is_read(
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a room copy with outputs cleared, no solutions and some exercises, it still works."""
    curriculum = pytest.importorskip("perflab.curriculum")
    copy = tmp_path / "course"
    curriculum.make_copy(ROOT, copy, curriculum.Mode.ROOM, exercises=["01", "02"])
    monkeypatch.chdir(copy / "exercises")
    data = _json(capsys)
    assert data["lessons"] == _json(capsys, "--root", str(ROOT))["lessons"]
    lesson = copy / "notebooks/beginner/02_find_the_bottleneck.ipynb"
    nb = json.loads(lesson.read_text(encoding="utf-8"))
    nb["metadata"]["perflab"]["course"]["title"] = "Only in this copy"
    lesson.write_text(json.dumps(nb), encoding="utf-8")
    titles = {i["id"]: i["title"] for i in _json(capsys)["lessons"]}
    assert titles["02"] == "Only in this copy"  # the copy is what was read
    assert main(["course"]) == 0
    assert "The course: the welcome and" in capsys.readouterr().out
