"""The check functions: verdicts, feedback wording, signed records."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perflab.grading import checks
from perflab.grading.checks import (
    capture,
    check_close,
    check_equal,
    check_prediction,
    check_true,
    sign,
    source_digest,
)


def _one(fn, *args, **kw):  # type: ignore[no-untyped-def]
    with capture() as records:
        fn(*args, **kw)
    assert len(records) == 1
    return records[0]


@pytest.mark.parametrize("got", [0.012, np.float64(0.012), 0.0120000000001])
def test_check_close_passes_within_tolerance(got: float) -> None:
    """A value within the relative tolerance passes, numpy scalars included."""
    assert _one(check_close, "x", "cost", got, 0.012)["status"] == "passed"


@pytest.mark.parametrize("got", [0.04, None, "0.012", float("nan"), True, ..., [0.012]])
def test_check_close_fails_wrong_or_non_numbers(got: object) -> None:
    """A wrong value, None, a string, NaN, a bool, Ellipsis or a list fails."""
    assert _one(check_close, "x", "cost", got, 0.012)["status"] == "failed"


def test_feedback_never_shows_the_expected_value() -> None:
    """The message says what came and a hint, and hides the expected value."""
    record = _one(
        check_close, "03.cost", "cost per request", 0.04, 0.0123456, hint="only misses pay"
    )
    assert "0.0123456" not in record["message"] and "0.0123456" not in str(record)
    assert "0.04" in record["message"] and "too high" in record["message"]
    assert "only misses pay" in record["message"]


def test_check_equal_compares_values_and_arrays() -> None:
    """Equal values and equal arrays pass; different ones fail."""
    assert _one(check_equal, "x", "n", 3, 3)["status"] == "passed"
    assert _one(check_equal, "x", "v", np.arange(3), np.arange(3))["status"] == "passed"
    assert _one(check_equal, "x", "v", np.arange(3), np.arange(4))["status"] == "failed"
    assert _one(check_equal, "x", "n", 4, 3)["status"] == "failed"


@pytest.mark.parametrize(
    ("condition", "status"),
    [
        (True, "passed"),
        (np.bool_(True), "passed"),
        (False, "failed"),
        (1, "failed"),
        (None, "failed"),
    ],
)
def test_check_true_needs_a_true_bool(condition: object, status: str) -> None:
    """Only True (or numpy's true) passes; truthy non-bools don't."""
    assert _one(check_true, "x", "called once", condition)["status"] == status


def test_check_prediction_is_information_only() -> None:
    """A prediction is compared with the measurement, never failed."""
    record = _one(check_prediction, "x", "hit rate", 0.7, 0.85)
    assert record["status"] == "info" and "0.7" in record["message"]
    assert _one(check_prediction, "x", "hit rate", None, 0.85)["status"] == "info"


def test_records_are_signed_with_the_run_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a key, a record carries an HMAC that any change to the record breaks."""
    monkeypatch.setattr(checks, "_KEY", b"secret")
    record = _one(check_close, "x", "cost", 1.0, 1.0)
    assert record["sig"] == sign(record, b"secret")
    forged = dict(record, status="passed", got="2.0")
    assert forged["sig"] != sign(forged, b"secret")


def test_source_digest_ignores_trailing_blanks_only() -> None:
    """Trailing spaces and blank edge lines don't change a digest; code does."""
    assert source_digest("a = 1\nb = 2") == source_digest("a = 1   \nb = 2\n\n")
    assert source_digest("a = 1") != source_digest("a = 2")


def test_unsigned_outside_a_checker_run() -> None:
    """Run by hand (no key), records are unsigned, so they can't pass the grader."""
    if checks._KEY:
        pytest.skip("a key is set in this environment")
    assert _one(check_close, "x", "c", 1.0, 1.0)["sig"] is None
    assert math.isfinite(1.0)


def test_long_parameter_is_not_mistaken_for_tampering() -> None:
    """A parameter whose repr is over 200 characters matches its (cut) record: no false alarm."""
    from perflab.grading.checks import param_fingerprint, sign, source_digest
    from perflab.grading.grade import RunInfo, _verify

    key = b"run-key"
    items = list(range(100))
    cell = {"source": "check_equal('ex', 'the items', items, items)"}
    record = {
        "params": {"items": param_fingerprint(items)},
        "caller": source_digest(cell["source"]),
    }
    record["sig"] = sign(record, key)
    info = RunInfo(seed=None, parameters={"items": items}, key=key, timeout_s=1)
    assert _verify(record, 3, cell, info) is None
    info = RunInfo(seed=None, parameters={"items": items[:-1]}, key=key, timeout_s=1)
    assert "don't assign to the parameters" in (_verify(record, 3, cell, info) or "")
