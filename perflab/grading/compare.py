"""Compare a learner's answer with the expected one, as plain data: the grader's judgement.

A check's answer leaves the learner's kernel as plain data (:func:`plain`): numbers,
strings, booleans, None, and lists and string-keyed dicts of those. Exact builtin types
only: a subclass of ``float`` or ``int`` could lie about its value or its ``==``, so it is
refused, as is any other object. :func:`judge` then decides, with no code from the
learner's notebook involved: ``perflab check`` calls it in the grader's own process, with
the expected value taken from the reference solution's run. The check functions call the
same function in the notebook, for the learner's instant feedback.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_ANSWER_CHARS", "Refused", "judge", "plain", "show"]

#: The longest answer (as JSON text) a check record carries.
MAX_ANSWER_CHARS = 100_000


class Refused(ValueError):
    """An answer that is not plain data; the message says what it was."""


def _numpy_plain(value: Any) -> tuple[bool, Any]:
    """(True, the value as builtins) for an exact numpy scalar or array; else (False, None)."""
    kind = type(value)
    if kind.__module__ != "numpy":
        return False, None
    import numpy as np

    if kind is np.ndarray or isinstance(value, np.generic):  # numpy's own types only
        if value.dtype.kind not in "biufU":
            raise Refused(f"a numpy {value.dtype} value (numbers, booleans or text only)")
        return True, value.tolist()
    return False, None


def plain(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON data, or :class:`Refused`.

    Accepted: ``None``, ``bool``, ``int``, ``float``, ``str`` (exactly those types, no
    subclasses), lists and tuples of plain values, dicts whose keys are ``str`` or ``int``
    (keys become strings, as in JSON), and numpy numbers and arrays of numbers.

    Raises:
        Refused: anything else, or nesting deeper than 20.
    """
    if depth > 20:
        raise Refused("an answer nested more than 20 levels deep")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value
    if kind in (list, tuple):
        return [plain(v, depth + 1) for v in value]
    if kind is dict:
        out: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) not in (str, int):
                raise Refused(f"a dict with a {type(key).__name__} key (str or int keys only)")
            out[str(key)] = plain(item, depth + 1)
        return out
    ok, converted = _numpy_plain(value)
    if ok:
        return converted
    raise Refused(
        f"a {kind.__module__}.{kind.__qualname__}"
        if kind.__module__ != "builtins"
        else f"a {kind.__qualname__}"
    )


def show(value: Any) -> str:
    """A plain value as a learner wants to read it: floats to 6 significant digits, cut."""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = json.dumps(value) if isinstance(value, (list, dict)) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _close(got: Any, expected: Any, rel_tol: float, abs_tol: float) -> tuple[bool, str]:
    tolerance = f"within {rel_tol:g} relative" + (f" or {abs_tol:g} absolute" if abs_tol else "")
    if not _is_number(got):
        return False, f"expected a number, got {show(got)}"
    if math.isnan(got):
        return False, "got NaN (not a number)"
    if not _is_number(expected) or math.isnan(expected):
        return False, f"got {show(got)}, but the expected value could not be computed"
    if math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return True, f"passed (got {show(got)}, {tolerance})"
    direction = "too high" if got > expected else "too low"
    return False, f"got {show(got)}, {direction}: not {tolerance} of the expected value"


def _first_difference(got: Any, expected: Any, where: str = "") -> str | None:
    """Where two plain values first differ, in words ('key "b": got 3'), or None."""
    if type(got) is dict and type(expected) is dict:
        for key in expected:
            if key not in got:
                return f"key {key!r}{where} is missing"
        for key in got:
            if key not in expected:
                return f"key {key!r}{where} should not be there"
        for key in expected:
            found = _first_difference(got[key], expected[key], f" (in {key!r}{where})")
            if found is not None:
                return found if found.startswith("key") else f"key {key!r}{where}: {found}"
        return None
    if type(got) is list and type(expected) is list:
        if len(got) != len(expected):
            return f"{len(got)} items, not {len(expected)}"
        for i, (a, b) in enumerate(zip(got, expected)):
            found = _first_difference(a, b, where)
            if found is not None:
                return f"item {i}: {found}"
        return None
    same = got == expected and (type(got) is bool) == (type(expected) is bool)
    return None if same else f"got {show(got)}"


def judge(
    kind: str, got: Any, expected: Any = None, rel_tol: float = 1e-6, abs_tol: float = 0.0
) -> tuple[bool, str]:
    """Whether a plain answer passes, and the feedback (never the expected value).

    Args:
        kind: ``"close"`` (numbers within tolerance), ``"equal"`` (the same plain data;
            for dicts and lists the feedback names the first key or item that differs)
            or ``"true"`` (``got`` must be exactly ``True``).
        got: the learner's answer, plain data.
        expected: the expected answer, plain data (unused for ``"true"``).
        rel_tol: relative tolerance for ``"close"`` (``math.isclose`` semantics).
        abs_tol: absolute tolerance for ``"close"``.
    """
    if kind == "close":
        return _close(got, expected, rel_tol, abs_tol)
    if kind == "equal":
        difference = _first_difference(got, expected)
        if difference is None:
            return True, f"passed (got {show(got)})"
        if difference == f"got {show(got)}":
            return False, f"got {show(got)}, not the expected value"
        return False, f"{difference}, not the expected value"
    if kind == "true":
        return (got is True), ("passed" if got is True else "does not hold")
    raise ValueError(f"kind must be 'close', 'equal' or 'true', got {kind!r}")
