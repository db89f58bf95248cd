"""Grading a room faster: one fresh seed by default, the room's reference runs first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.grading import runner
from perflab.grading.reference import ReferenceCache
from perflab.grading.runner import (
    DEFAULT_SEEDS,
    CheckOptions,
    check_paths,
    collect,
    fresh_seeds,
    reference_jobs,
)

from ._helpers import by_exercise, exercise, notebook, references, write


def test_one_fresh_seed_by_default_and_more_when_asked() -> None:
    """The default is one seed, drawn afresh for every CheckOptions; N are N distinct."""
    assert DEFAULT_SEEDS == 1
    assert len(fresh_seeds()) == 1 and len(CheckOptions().seeds) == 1
    draws = {CheckOptions().seeds for _ in range(20)}
    assert len(draws) == 20  # fresh each time: 2**31 values, no table can hold them
    three = fresh_seeds(3)
    assert len(set(three)) == 3 and all(0 <= s < 2**31 for s in three)
    with pytest.raises(ValueError, match="count must be >= 1"):
        fresh_seeds(0)


def _room(tmp_path: Path, learners: int) -> tuple[Path, tuple[Path, ...]]:
    refs = references(tmp_path / "refs", "a")
    for i in range(learners):
        write(notebook(*exercise("a"), exercises=["a"]), tmp_path / "room" / f"l{i}" / "x.ipynb")
    (tmp_path / "room" / "junk.ipynb").write_text("not json", encoding="utf-8")
    return tmp_path / "room", refs


def test_reference_jobs_are_one_per_exercise_and_seed(tmp_path: Path) -> None:
    """Three learners of one exercise with two seeds need two reference runs, not six;
    an unreadable notebook adds none (its own grading says why)."""
    room, refs = _room(tmp_path, 3)
    options = CheckOptions(seeds=(5, 6), reference_dirs=refs, cache=ReferenceCache())
    assert len(reference_jobs(collect([room]), options)) == 2
    one = CheckOptions(seeds=(5,), reference_dirs=refs, cache=ReferenceCache())
    assert len(reference_jobs(collect([room]), one)) == 1


def test_reference_runs_come_first_and_once_for_the_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one worker every reference run of the room happens before any learner's run,
    each once; the learners' verdicts are what they were without the scheduling."""
    room, refs = _room(tmp_path, 2)
    events: list[str] = []
    execute = runner.execute

    def spy(nb: Any, parameters: Any, seed: Any, options: Any, role: str, **kw: Any) -> Any:
        events.append(role)
        return execute(nb, parameters, seed, options, role, **kw)

    monkeypatch.setattr(runner, "execute", spy)
    options = CheckOptions(seeds=(5, 6), timeout_s=30, reference_dirs=refs, cache=ReferenceCache())
    reports = check_paths([room], options, workers=1)
    assert events[:2] == ["reference", "reference"], events
    assert events.count("reference") == 2 and events.count("learner") == 4, events
    graded = [r for r in reports if r.learner != "junk"]
    assert [by_exercise(r)["a"].status.value for r in graded] == ["passed", "passed"]
    assert all(r.seeds == (5, 6) for r in graded)


def test_without_references_first_the_verdicts_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """references_first=False grades as before: references made on first need."""
    room, refs = _room(tmp_path, 1)
    events: list[str] = []
    execute = runner.execute
    monkeypatch.setattr(
        runner,
        "execute",
        lambda nb, p, s, o, role, **kw: events.append(role) or execute(nb, p, s, o, role, **kw),
    )
    options = CheckOptions(seeds=(5,), timeout_s=30, reference_dirs=refs, cache=ReferenceCache())
    reports = check_paths([room], options, workers=1, references_first=False)
    assert events == ["reference", "learner"]
    assert by_exercise(reports[1])["a"].status.value == "passed"


def test_a_shard_runs_its_reference_jobs_first(tmp_path: Path) -> None:
    """check_items starts the ``first`` jobs before any notebook, on the same workers."""
    from perflab.grading.results import NotebookReport
    from perflab.grading.shard import check_items

    order: list[str] = []
    items = [(tmp_path / f"{i}.ipynb", f"l{i}") for i in range(3)]

    def check(path: Path, learner: str) -> NotebookReport:
        order.append(learner)
        return NotebookReport(str(path), learner, ())

    reports = check_items(items, check, 1, first=[lambda: order.append("ref")] * 2)
    assert order == ["ref", "ref", "l0", "l1", "l2"]
    assert [r.learner for r in reports] == ["l0", "l1", "l2"]
