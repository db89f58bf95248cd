"""The check functions: verdicts, feedback wording, signed records."""

from __future__ import annotations

import numpy as np
import pytest

from perflab.grading import checks
from perflab.grading.checks import (
    capture,
    check_close,
    check_equal,
    check_prediction,
    check_true,
    source_digest,
)
from perflab.grading.compare import Refused, judge, plain
from perflab.grading.reference import graded_source


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


def test_source_digest_ignores_trailing_blanks_only() -> None:
    """Trailing spaces and blank edge lines don't change a digest; code does."""
    assert source_digest("a = 1\nb = 2") == source_digest("a = 1   \nb = 2\n\n")
    assert source_digest("a = 1") != source_digest("a = 2")


def test_records_carry_the_answer_as_plain_data() -> None:
    """A record holds the learner's answer as JSON-able builtins, numpy converted."""
    record = _one(check_equal, "x", "v", np.arange(3), [0, 1, 2])
    assert record["answer"] == [0, 1, 2] and type(record["answer"][0]) is int
    assert "expected" not in record  # only the reference's run records expected values


class _Liar(float):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


class _Yes(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize("value", [_Liar(1.0), _Yes(3), object(), {1.5: 2}, [_Yes(1)]])
def test_subclasses_and_objects_are_refused(value: object) -> None:
    """A float or int subclass (which can lie about == or its value) is no answer."""
    with pytest.raises(Refused):
        plain(value)
    assert _one(check_equal, "x", "n", value, 3)["status"] == "failed"


def test_dict_feedback_names_the_wrong_key_not_the_dict() -> None:
    """check_equal on dicts says which key differs (or is missing), not the whole dict."""
    got = {f"rule{i}": i for i in range(30)}
    want = dict(got, rule7=8)
    message = _one(check_equal, "x", "fires", got, want)["message"]
    assert "key 'rule7': got 7" in message and "rule29" not in message
    assert "key 'extra' should not be there" in judge("equal", {"a": 1, "extra": 2}, {"a": 1})[1]
    assert "key 'b' is missing" in judge("equal", {"a": 1}, {"a": 1, "b": 2})[1]


def test_the_graded_form_holds_no_expected_value() -> None:
    """In the graded form every expected value is ``...`` and the code that only fed
    expected values is gone; the learner's answer expressions stay."""
    source = (
        "_ref = float(np.percentile(_lat, 95))\n"
        "_all = [_ref * 2]\n"
        "for _k in range(3):\n"
        "    _all.append(_k)\n"
        "check_close('e', 'p95', p95, _ref, rel_tol=1e-9, abs_tol=max(_all), hint='h')\n"
        "check_equal('e', 'n', n_slow, expected=len(_all))\n"
        "check_true('e', 'ok', calls == misses, got=calls)"
    )
    graded = graded_source(source)
    assert "_ref" not in graded and "_all" not in graded and "percentile" not in graded
    assert "check_close('e', 'p95', p95, ...)" in graded
    assert "check_equal('e', 'n', n_slow, expected=...)" in graded
    assert "calls == misses" in graded


def test_graded_run_records_without_judging() -> None:
    """With ``...`` as the expected value a check only records the answer."""
    record = _one(check_close, "x", "cost", 0.5, ...)
    assert record["status"] == "recorded" and record["answer"] == 0.5


def test_a_check_after_a_crashed_cell_says_it_was_never_computed() -> None:
    """After a cell raised, a prediction says the measurement was never computed, not
    "you measured 0"."""
    checks._last_error[:] = ["NameError"]
    try:
        message = _one(check_prediction, "x", "hit rate", 0.5, 0)["message"]
    finally:
        checks._last_error[:] = []
    assert "never computed" in message and "you measured 0" not in message


def test_check_compare_applies_the_operator_to_every_item() -> None:
    """Every item must hold; an empty list fails; the bound never shows in the feedback."""
    from perflab.grading.checks import check_compare

    assert _one(check_compare, "x", "fits", [3, 4], "<=", 5)["status"] == "passed"
    failed = _one(check_compare, "x", "fits", [3, 6], "<=", 5.4321)
    assert failed["status"] == "failed" and "item 1: got 6" in failed["message"]
    assert "5.4321" not in failed["message"]
    assert _one(check_compare, "x", "fits", [], "<=", 5)["status"] == "failed"
    assert (
        _one(check_compare, "x", "eq", 1.0 + 1e-10, "==", 1.0, abs_tol=1e-9)["status"] == "passed"
    )
    with pytest.raises(ValueError, match="op must be one of"):
        check_compare("x", "bad", 1, "=<", 2)


def test_check_relation_compares_two_learner_values_item_by_item() -> None:
    """Both sides are shown; shapes must match; text compares with == only."""
    from perflab.grading.checks import check_relation

    assert _one(check_relation, "x", "r", [2, 3], ">=", [1, 3])["status"] == "passed"
    failed = _one(check_relation, "x", "r", [2, 3], ">=", [1, 4])
    assert "item 1: got 3, not >= 4" in failed["message"]
    assert _one(check_relation, "x", "r", [1], "==", [1, 2])["status"] == "failed"
    assert _one(check_relation, "x", "r", ["open"], "==", ["open"])["status"] == "passed"
    assert _one(check_relation, "x", "r", ["a"], "<", ["b"])["status"] == "failed"


def test_the_grader_applies_the_reference_rule_not_the_learners() -> None:
    """The graded form withholds the bound; the grader judges the plain answer with the
    rule the reference run recorded, whatever op the learner's record claims."""
    from perflab.grading.checks import check_compare, check_relation

    source = "check_compare('x', 'w', got, '<=', _secret_bound(), abs_tol=1, hint='h')"
    graded = graded_source(source)
    assert "_secret_bound" not in graded and "abs_tol" not in graded and "..." in graded
    checks._REFERENCE_RUN = True
    try:
        ref = _one(check_compare, "x", "w", 3, "<=", 5)
        rel = _one(check_relation, "x", "r", 1, "<", 2)
    finally:
        checks._REFERENCE_RUN = False
    assert ref["expected"] == {"rule": "compare", "op": "<=", "bound": 5}
    assert judge("true", 6, ref["expected"], 0.0, 0.0)[0] is False
    assert judge("true", 5, ref["expected"], 0.0, 0.0)[0] is True
    assert judge("true", {"left": 3, "right": 2}, rel["expected"], 0.0, 0.0)[0] is False
    assert judge("true", True, rel["expected"], 0.0, 0.0)[0] is False  # not the two sides
    assert judge("true", [1, 2], {"rule": "compare", "op": "<=", "bound": [1, 1]})[0] is False


def test_check_close_compares_lists_and_dicts_item_by_item() -> None:
    """Same length and keys, each number within tolerance; the feedback names the item."""
    assert _one(check_close, "x", "v", [1.0, 2.0], [1.0, 2.0])["status"] == "passed"
    failed = _one(check_close, "x", "v", {"a": 1.0, "b": 3.0}, {"a": 1.0, "b": 2.0})
    assert "key 'b': got 3, too high" in failed["message"]
    assert _one(check_close, "x", "v", [1.0], [1.0, 2.0])["status"] == "failed"


def test_a_huge_relation_is_refused_at_the_answer_cap() -> None:
    """An answer past MAX_ANSWER_CHARS is refused, not recorded in full."""
    from perflab.grading.checks import check_relation
    from perflab.grading.compare import MAX_ANSWER_CHARS

    record = _one(check_relation, "x", "r", [1.5] * MAX_ANSWER_CHARS, "==", 1.5)
    assert record["status"] == "failed" and record["answer"] is None
    assert "characters" in record["refused"]
