"""Each check of each shipped exercise fails when fed a wrong answer (run in-process)."""

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

from .wrong_answers_03t import WRONG as WRONG_03T
from .wrong_answers_05b import WRONG as WRONG_05B
from .wrong_answers_12 import WRONG as WRONG_12
from .wrong_answers_13_14 import WRONG as WRONG_13_14
from .wrong_answers_15 import WRONG as WRONG_15
from .wrong_answers_p import WRONG as WRONG_P
from .wrong_answers_q import WRONG as WRONG_Q
from .wrong_answers_r import WRONG as WRONG_R
from .wrong_answers_s import WRONG as WRONG_S

ROOT = Path(__file__).resolve().parents[2]

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "03_cache_economics",
        "03.cost",
        "cost per request in dollars",
        "cost_per_request = hit_rate * api_cost",
    ),
    (
        "03_cache_economics",
        "03.daily",
        "daily cost with the cache",
        "daily_with_cache -= storage_cost_per_day",
    ),
    (
        "03_cache_economics",
        "03.daily",
        "daily cost without a cache",
        "daily_without_cache += storage_cost_per_day",
    ),
    ("03_cache_economics", "03.daily", "savings over 30 days", "monthly_savings /= 30"),
    ("03_cache_economics", "03.roi", "return on investment (a fraction)", "cache_roi *= 100"),
    (
        "03_cache_economics",
        "03.hitrate",
        "every request was served (hits + misses = requests)",
        "hits -= 1",
    ),
    (
        "03_cache_economics",
        "03.hitrate",
        "the API was called once per miss, and only then",
        "api.search('again')",
    ),
    (
        "03_cache_economics",
        "03.hitrate",
        "each distinct keyword reached the API exactly once",
        "api.search('again'); misses += 1; hits -= 1",
    ),
    ("03_cache_economics", "03.hitrate", "measured hit rate", "measured_hit_rate = hit_rate"),
    (
        "03_cache_economics",
        "03.hitrate",
        "the formula's bill for the measured hit rate",
        "predicted_bill = api.bill * 1.1",
    ),
    (
        "03_cache_economics",
        "03.semantic",
        "the API was called once per semantic-cache miss",
        "semantic_api.search('again')",
    ),
    (
        "03_cache_economics",
        "03.semantic",
        "semantic hit rate",
        "semantic_hit_rate = measured_hit_rate",
    ),
    ("03_cache_economics", "03.semantic", "wrong answers served", "wrong_answers = 0"),
]
WRONG += WRONG_P  # exercises 01, 02, 05 and 07
WRONG += WRONG_Q  # exercises 09 and 10
WRONG += WRONG_R  # exercises 04, 06 and 13
WRONG += WRONG_S  # exercises 08, 11 and 15
WRONG += WRONG_05B  # exercise 05b
WRONG += WRONG_03T  # exercise 03.time_per_request
WRONG += WRONG_12  # exercise 12 (little, erlang, scaling, balance, usl)
WRONG += WRONG_13_14  # exercises 13.predict and 14
WRONG += WRONG_15  # exercise 15.replications and the reworked 15.final


def _solution(name: str) -> Any:
    return nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)


def _run(
    name: str, exercise: str, spoil: str, seed: int, graded: bool = False
) -> list[dict[str, Any]]:
    """The records of ``exercise``'s checks after ``spoil``; ``graded``: the check cells in
    the form a learner's graded run executes (no expected value in them)."""
    nb = _solution(name)
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


def test_every_check_has_a_wrong_answer_test() -> None:
    """The table above covers every check of every shipped solution."""
    covered = {(n, w) for n, _, w, _ in WRONG}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for c in nbformat.read(path, as_version=4).cells:
            if (t := cell_tag(c)) is None or t.role != "check":
                continue
            for out in c.outputs:
                record = out.get("data", {}).get("application/vnd.perflab.check+json")
                if record and record["status"] != "info":
                    assert (path.stem, record["what"]) in covered, record["what"]


@pytest.mark.parametrize(
    ("name", "exercise", "what", "spoil"), WRONG, ids=[f"{e}:{w[:30]}" for _, e, w, _ in WRONG]
)
def test_wrong_answer_fails_its_check(name: str, exercise: str, what: str, spoil: str) -> None:
    """The spoiled answer makes exactly the check that watches it fail."""
    untouched = _run(name, exercise, "pass", seed=11)
    assert all(r["status"] in ("passed", "info") for r in untouched)
    records = {r["what"]: r for r in _run(name, exercise, spoil, seed=11)}
    assert records[what]["status"] == "failed", records[what]["message"]


#: Every exercise: each wrong answer also fails when judged the way ``perflab check`` judges.
GRADED = list(WRONG)


@pytest.mark.parametrize(
    ("name", "exercise", "what", "spoil"), GRADED, ids=[f"{e}:{w[:30]}" for _, e, w, _ in GRADED]
)
def test_wrong_answer_fails_in_the_grader(
    name: str, exercise: str, what: str, spoil: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Judged the way ``perflab check`` judges: the reference solution's records (its run
    with ``PERFLAB_CHECK_ROLE=reference``) against the answers of the graded form of the
    check cells, compared in this process by grade.py. The untouched solution passes
    every check; the spoiled answer fails exactly the check that watches it."""
    monkeypatch.setattr(checks, "_REFERENCE_RUN", True)
    reference = _run(name, exercise, "pass", seed=11)
    monkeypatch.setattr(checks, "_REFERENCE_RUN", False)

    def verdicts(spoil: str) -> tuple[list[str], list[str]]:
        records = _run(name, exercise, spoil, seed=11, graded=True)
        assert all("expected" not in r for r in records)  # nothing expected in the kernel
        outputs = [{"output_type": "display_data", "data": {MIME_TYPE: r}} for r in records]
        # as the grader reads them: out of a saved notebook (dicts become NotebookNodes)
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
