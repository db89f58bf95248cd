"""Each check of exercises 13.predict and 14 fails when fed its wrong answer.

Run in process, as tests/grading/test_exercise_checks.py runs the others: once with the
check cells as written, once judged the way ``perflab check`` judges (the reference run's
records against the graded form's answers). When test_exercise_checks.py imports
wrong_answers_13_14 (``WRONG += WRONG_13_14``), this file can go.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from perflab.grading import checks
from perflab.grading.checks import MIME_TYPE, capture
from perflab.grading.grade import _Cell, _verdicts
from perflab.grading.notebook import cell_tag
from perflab.grading.reference import graded_source

from .wrong_answers_13_14 import WRONG
from .wrong_answers_r import WRONG as WRONG_R

ROOT = Path(__file__).resolve().parents[2]
IDS = [f"{e}:{w[:30]}" for _, e, w, _ in WRONG]
# exercise 13's other parts (their wrong answers live in wrong_answers_r.py), judged by the grader too
GRADED = WRONG + [w for w in WRONG_R if w[0] == "13_adaptive_cache"]


def _run(
    name: str, exercise: str, spoil: str, seed: int, graded: bool = False
) -> list[dict[str, Any]]:
    """The records of ``exercise``'s checks after ``spoil`` (``graded``: the learner's form)."""
    nb = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    ns: dict[str, Any] = {}
    sources = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        tag = cell_tag(c)
        if tag is not None and tag.role == "check":
            if tag.exercise == exercise:
                sources.append(graded_source(c.source) if graded else c.source)
            continue
        exec(compile(c.source, "<cell>", "exec"), ns)  # noqa: S102
        if tag is not None and tag.role == "parameters":
            ns["seed"] = seed
    exec(spoil, ns)  # noqa: S102
    with capture() as records:
        for source in sources:
            exec(compile(source, "<check>", "exec"), ns)  # noqa: S102
    return records


@pytest.mark.parametrize(("name", "exercise", "what", "spoil"), WRONG, ids=IDS)
def test_wrong_answer_fails_its_check(name: str, exercise: str, what: str, spoil: str) -> None:
    """The spoiled answer makes exactly the check that watches it fail."""
    untouched = _run(name, exercise, "pass", seed=11)
    assert all(r["status"] in ("passed", "info") for r in untouched)
    records = {r["what"]: r for r in _run(name, exercise, spoil, seed=11)}
    assert records[what]["status"] == "failed", records[what]["message"]


@pytest.mark.parametrize(
    ("name", "exercise", "what", "spoil"), GRADED, ids=[f"{e}:{w[:30]}" for _, e, w, _ in GRADED]
)
def test_wrong_answer_fails_in_the_grader(
    name: str, exercise: str, what: str, spoil: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judged by grade.py: the untouched solution passes, the spoiled answer fails its check."""
    monkeypatch.setattr(checks, "_REFERENCE_RUN", True)
    reference = _run(name, exercise, "pass", seed=11)
    monkeypatch.setattr(checks, "_REFERENCE_RUN", False)

    def verdicts(spoil: str) -> Any:
        records = _run(name, exercise, spoil, seed=11, graded=True)
        assert all("expected" not in r for r in records)  # nothing expected in the kernel
        outputs = [{"output_type": "display_data", "data": {MIME_TYPE: r}} for r in records]
        cell = nbformat.from_dict(json.loads(json.dumps({"outputs": outputs})))
        wanted = nbformat.from_dict(json.loads(json.dumps(reference)))
        found = _verdicts(exercise, _Cell(1, "the check cell", cell), wanted)
        assert not isinstance(found, str), found
        return found

    passed, failed = verdicts("pass")
    assert not failed, failed
    assert what in passed
    passed, failed = verdicts(spoil)
    assert what not in passed, f"{what!r} passed with {spoil!r}"
