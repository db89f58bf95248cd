"""The check functions that exercise notebooks call.

A check cell recomputes the expected answer from the notebook's parameters and hands
both values to one of these functions. Each call prints friendly feedback in the
notebook (what was checked, what came, a hint, never the expected value) and records a
machine-readable result in the cell output, as a ``display_data`` of MIME type
``application/vnd.perflab.check+json``.

That feedback is for the learner while they work. The grade is decided elsewhere:
``perflab check`` reads only the learner's *answer* from each record, as plain data (see
:mod:`perflab.grading.compare`), and compares it in its own process with the value the
reference solution's check computed in a run of its own. In the learner's graded run the
check cells get ``...`` in place of every expected value (see
:mod:`perflab.grading.reference`), so nothing in the learner's kernel ever holds one.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from perflab.grading.compare import MAX_ANSWER_CHARS, OPS, Refused, judge, plain, show

__all__ = [
    "MIME_TYPE",
    "capture",
    "check_close",
    "check_compare",
    "check_equal",
    "check_prediction",
    "check_relation",
    "check_true",
    "short_repr",
    "source_digest",
]

MIME_TYPE = "application/vnd.perflab.check+json"
"""The MIME type of a check record in a cell's outputs."""

#: In the reference solution's run only (``PERFLAB_CHECK_ROLE=reference``, set by
#: ``perflab check``), records carry the expected value, which the grader compares the
#: learner's answers with. None: read the environment at each check (a graded kernel
#: may have imported this module before its environment was set); tests set a bool.
_REFERENCE_RUN: bool | None = None
_REPR_MAX = 200
_sink: list[dict[str, Any]] | None = None
_seq = 0
_last_error: list[str] = []  # the error of the cell run before the current one, if any


def source_digest(source: str) -> str:
    """Digest of a cell's source, blind to trailing spaces and blank edge lines.

    The grader compares the digest of each of the learner's check cells with the
    digests of the reference solution's check cells.
    """
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@contextmanager
def capture() -> Iterator[list[dict[str, Any]]]:
    """Collect the records of the checks called inside the block (for tests).

    Yields:
        The list the records are appended to; nothing is displayed meanwhile.
    """
    global _sink
    previous, _sink = _sink, []
    try:
        yield _sink
    finally:
        _sink = previous


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to 200 characters."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's object whose repr raises
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _REPR_MAX else text[: _REPR_MAX - 3] + "..."


def _watch_errors() -> None:
    """In a kernel, remember whether each cell raised (for "never computed" feedback)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None or getattr(shell, "_perflab_watch", False):
        return

    def after(result: Any) -> None:
        error = getattr(result, "error_in_exec", None)
        _last_error[:] = [type(error).__name__] if error is not None else []

    shell.events.register("post_run_cell", after)
    shell._perflab_watch = True


_watch_errors()


def _crash_note() -> str:
    if not _last_error:
        return ""
    return (
        f" (the cell run before this check raised {_last_error[0]}, so what it should "
        "have computed was never computed: fix that cell and run it again)"
    )


def _answer(value: Any) -> tuple[Any, str]:
    """(the answer as plain data, '') or (None, why it was refused)."""
    try:
        answer = plain(value)
    except Refused as exc:
        return None, f"{exc}: answers must be plain numbers, text, lists or dicts"
    except RecursionError:
        return None, "an answer that contains itself"
    if len(show_json := _json(answer)) > MAX_ANSWER_CHARS:
        return (
            None,
            f"an answer of {len(show_json):,} characters (the limit is {MAX_ANSWER_CHARS:,})",
        )
    return answer, ""


def _json(value: Any) -> str:
    import json

    return json.dumps(value, allow_nan=True)


def _emit(
    exercise: str,
    what: str,
    kind: str,
    got: Any,
    expected: Any = ...,
    hint: str = "",
    rule: dict[str, Any] | None = None,
    **extra: Any,
) -> None:
    """Judge (unless the expected value was withheld), show the feedback and record.

    ``rule`` (``check_compare``/``check_relation``): the judgement is that rule, applied
    to the answer; its ``bound`` is the expected value (``...`` when withheld)."""
    global _seq
    _seq += 1
    answer, refused = _answer(got)
    record: dict[str, Any] = {
        "v": 2,
        "exercise": str(exercise),
        "what": str(what),
        "kind": kind,
        "answer": answer,
        "refused": refused,
        "hint": str(hint),
        "seq": _seq,
        **extra,
    }
    if kind == "info":
        status, detail = "info", str(record.pop("detail", ""))
    elif refused:
        status, detail = "failed", f"refused {refused}"
    elif expected is ...:
        status, detail = "recorded", f"recorded your answer {show(answer)} for perflab check"
    else:
        want: Any
        if rule is not None:
            want, why = dict(rule), ""
            if rule.get("rule") == "compare":
                want["bound"], why = _answer(expected)
        elif kind == "true":
            want, why = True, ""
        else:
            want, why = _answer(expected)
        if why:
            status, detail = "failed", f"the check could not use its expected value ({why})"
        else:
            passed, detail = judge(
                kind, answer, want, extra.get("rel_tol", 0.0), extra.get("abs_tol", 0.0)
            )
            status = "passed" if passed else "failed"
            detail += str(record.pop("shown", ""))
            if _REFERENCE_RUN or (
                _REFERENCE_RUN is None and os.environ.get("PERFLAB_CHECK_ROLE") == "reference"
            ):
                record["expected"] = want
    if status == "failed":
        detail += _crash_note()
    mark = {"passed": "\u2714", "failed": "\u2718"}.get(status, "\u2139")
    lines = [f"{mark} [{exercise}] {what}: {detail}"]
    if hint and status == "failed":
        lines.append(f"  hint: {hint}")
    record["status"] = status
    record["message"] = "\n".join(lines)
    if _sink is not None:
        _sink.append(record)
        return
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None:
        print(record["message"])
        return
    from IPython.display import display

    display({"text/plain": record["message"], MIME_TYPE: record}, raw=True)  # type: ignore[no-untyped-call]


def check_close(
    exercise: str,
    what: str,
    got: Any,
    expected: Any,
    *,
    rel_tol: float = 1e-6,
    abs_tol: float = 0.0,
    hint: str = "",
    reference: bool = True,
) -> None:
    """Check that a number is close to the value the check computed.

    Args:
        exercise: the exercise id, as in the cell's ``perflab`` metadata.
        what: what was checked, in words ("cost per request in dollars").
        got: the learner's value (a plain number: ``int``, ``float`` or a numpy number).
        expected: the value the check cell recomputed from the parameters; never shown.
            ``...`` in a graded run, where the grader compares outside the notebook.
        rel_tol: allowed relative difference (``math.isclose`` semantics).
        abs_tol: allowed absolute difference.
        hint: shown when the check fails.
        reference: True (the default) to have ``perflab check`` compare with the value
            the reference solution's check computed. False when ``expected`` depends on
            the learner's own choices (a configuration they picked), so only their
            notebook can compute it: the grader then takes the notebook's verdict.
    """
    if type(got) is bool:
        got = f"the bool {got}"  # True == 1 in Python; an answer of True is not a number
    extra: dict[str, Any] = {} if reference else {"reference": False}
    _emit(
        exercise,
        what,
        "close",
        got,
        expected,
        hint,
        rel_tol=float(rel_tol),
        abs_tol=float(abs_tol),
        **extra,
    )


def check_equal(
    exercise: str, what: str, got: Any, expected: Any, *, hint: str = "", reference: bool = True
) -> None:
    """Check that a value equals the one the check computed (as plain data).

    Lists, tuples and numpy arrays compare item by item; for a dict the feedback names
    the first key that is missing, extra or different.

    Args:
        exercise: the exercise id.
        what: what was checked, in words.
        got: the learner's value (plain data: numbers, text, lists, dicts, numpy arrays).
        expected: the value the check cell computed; never shown (``...`` when graded).
        hint: shown when the check fails.
        reference: as for :func:`check_close`.
    """
    extra: dict[str, Any] = {} if reference else {"reference": False}
    _emit(exercise, what, "equal", got, expected, hint, **extra)


def check_compare(
    exercise: str,
    what: str,
    got: Any,
    op: str,
    bound: Any,
    *,
    abs_tol: float = 0.0,
    hint: str = "",
) -> None:
    """Check that ``got <op> bound``, where ``bound`` is a value the check computes.

    The grader decides: ``got`` leaves the kernel as plain data, and in a graded run
    ``bound`` is withheld from the learner's kernel (``...``) and taken, with ``op`` and
    ``abs_tol``, from the record of the same check in the reference solution's run. The
    feedback never shows ``bound``.

    Example: ``check_compare("07.run", "the hidden limit is at least your largest
    success", limit_low, "<=", _api._limit)``.

    Args:
        exercise: the exercise id.
        what: the condition in words.
        got: the learner's value: a number, or a list or dict of numbers (nested), each
            item of which must satisfy the operator; an empty list or dict fails. Text,
            bools and None compare with ``"=="``/``"!="`` only.
        op: one of ``"<"``, ``"<="``, ``"=="``, ``"!="``, ``">="``, ``">"``.
        bound: one value every item is compared with, or a list/dict shaped like
            ``got`` (item by item).
        abs_tol: slack for numbers (``got <= bound + abs_tol``; ``==``: within abs_tol).
        hint: shown when the check fails.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    rule = {"rule": "compare", "op": op}
    _emit(exercise, what, "true", got, bound, hint, rule=rule, op=op, abs_tol=float(abs_tol))


def check_relation(
    exercise: str,
    what: str,
    left: Any,
    op: str,
    right: Any,
    *,
    abs_tol: float = 0.0,
    hint: str = "",
) -> None:
    """Check that ``left <op> right`` for two of the learner's own values.

    Both sides leave the kernel as plain data (the answer is ``{"left": ..., "right":
    ...}``); the grader applies ``op`` (and ``abs_tol``) taken from the reference
    solution's record of the same check, item by item, as :func:`check_compare` does.
    Nothing is withheld: use it for a relation between two things the learner made
    (the breaker's first opening and the service's failure times), never to compare
    with a value the check computes (that is :func:`check_compare`).

    Example: ``check_relation("09.omission", "no request is faster from its intended
    start than from its send", latency_intended, ">=", latency_sent, abs_tol=1e-12)``.

    Args:
        exercise: the exercise id.
        what: the relation in words.
        left: the learner's value (plain data; lists and dicts item by item; empty fails).
        op: one of ``"<"``, ``"<="``, ``"=="``, ``"!="``, ``">="``, ``">"``.
        right: the other value: shaped like ``left``, or one value for every item.
        abs_tol: slack for numbers.
        hint: shown when the check fails.
    """
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    answer: Any = {"left": left, "right": right}
    rule = {"rule": "relation", "op": op}
    _emit(exercise, what, "true", answer, True, hint, rule=rule, op=op, abs_tol=float(abs_tol))


def check_true(
    exercise: str, what: str, condition: Any, *, got: Any = None, hint: str = ""
) -> None:
    """Check that a condition about the learner's work holds (legacy: decided in the kernel).

    The condition is evaluated in the learner's kernel, and a kernel the learner patched
    can make it True: the grader can only read its value. New checks use
    :func:`check_compare` (a value against a bound the reference computes),
    :func:`check_relation` (two of the learner's values) or ``check_close`` /
    ``check_equal`` on lists and dicts, which the grader decides.

    Args:
        exercise: the exercise id.
        what: the condition in words ("the API was called once per cache miss").
        condition: must be exactly ``True`` (or a numpy true bool) to pass.
        got: the value to show in the feedback, if any.
        hint: shown when the check fails.
    """
    shown = f" (got {show(_answer(got)[0]) if not _answer(got)[1] else short_repr(got)})"
    _emit(exercise, what, "true", condition, True, hint, shown=shown if got is not None else "")


def check_prediction(
    exercise: str, what: str, prediction: Any, measured: Any, *, unit: str = ""
) -> None:
    """Compare a learner's written-down prediction with their own measurement.

    Informational: it never fails an exercise. It teaches by the gap between the guess
    and the measurement, so compare with the learner's measured value, never with a
    value the checks computed.

    Args:
        exercise: the exercise id.
        what: the quantity predicted ("the hit rate").
        prediction: the learner's prediction (``None`` or ``...`` when not written).
        measured: the learner's measured value.
        unit: appended to the numbers in the message.
    """
    guess = _number(prediction)
    value = _number(measured)
    if guess is None:
        detail = (
            "no prediction written: write your guess down before you run, it's the "
            "best way to learn what surprises you"
        )
    elif value is None:
        detail = f"you predicted {guess:.4g}{unit}; " + (
            "your measurement was never computed (did a cell above raise?)"
            if _last_error or measured is None
            else f"your measurement is not a number ({short_repr(measured)})"
        )
    else:
        detail = (
            f"you predicted {guess:.4g}{unit}; you measured {value:.4g}{unit} "
            f"(off by {value - guess:+.3g}{unit})"
        )
        if _last_error:
            detail = (
                f"you predicted {guess:.4g}{unit}; your measurement was never computed: "
                f"the cell run before this check raised {_last_error[0]}"
            )
            value = None
    _emit(exercise, what, "info", guess, ..., "", predicted=guess, measured=value, detail=detail)


def _number(value: Any) -> float | None:
    """A plain finite-or-not number as float, or None (bools, text and objects are not)."""
    try:
        answer = plain(value)
    except (Refused, RecursionError):
        return None
    return float(answer) if type(answer) in (int, float) else None
