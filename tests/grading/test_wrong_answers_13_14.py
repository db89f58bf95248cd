"""Each check of exercises 13.predict and 14 fails when fed its wrong answer.

Until test_exercise_checks.py imports wrong_answers_13_14 (``WRONG += WRONG_13_14``), this
file runs those entries with the same in-process runner.
"""

from __future__ import annotations

import pytest

from .test_exercise_checks import _run
from .wrong_answers_13_14 import WRONG


@pytest.mark.parametrize(
    ("name", "exercise", "what", "spoil"), WRONG, ids=[f"{e}:{w[:30]}" for _, e, w, _ in WRONG]
)
def test_wrong_answer_fails_its_check(name: str, exercise: str, what: str, spoil: str) -> None:
    """The spoiled answer makes exactly the check that watches it fail."""
    untouched = _run(name, exercise, "pass", seed=11)
    assert all(r["status"] in ("passed", "info") for r in untouched)
    records = {r["what"]: r for r in _run(name, exercise, spoil, seed=11)}
    assert records[what]["status"] == "failed", records[what]["message"]
