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

__all__ = ["MAX_ANSWER_CHARS", "OPS", "Refused", "holds", "judge", "plain", "show"]

#: The operators :func:`holds` applies (``check_compare``, ``check_relation``).
OPS = ("<", "<=", "==", "!=", ">=", ">")

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


def _close_one(
    got: Any, expected: Any, rel_tol: float, abs_tol: float, tolerance: str
) -> str | None:
    """None when two numbers are close; else what is wrong, in words (no expected value)."""
    if not _is_number(got):
        return f"expected a number, got {show(got)}"
    if math.isnan(got):
        return "got NaN (not a number)"
    if not _is_number(expected) or math.isnan(expected):
        return f"got {show(got)}, but the expected value could not be computed"
    if math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol):
        return None
    direction = "too high" if got > expected else "too low"
    return f"got {show(got)}, {direction}: not {tolerance} of the expected value"


def _close_all(
    got: Any, expected: Any, rel_tol: float, abs_tol: float, tolerance: str
) -> str | None:
    """Item by item for lists and dicts of numbers (same length, same keys); else one number."""
    if type(expected) is list:
        if type(got) is not list:
            return f"expected a list of {len(expected)} numbers, got {show(got)}"
        if len(got) != len(expected):
            return f"{len(got)} items, not {len(expected)}"
        for i, (a, b) in enumerate(zip(got, expected)):
            found = _close_all(a, b, rel_tol, abs_tol, tolerance)
            if found is not None:
                return f"item {i}: {found}"
        return None
    if type(expected) is dict:
        if type(got) is not dict:
            return f"expected a dict of numbers, got {show(got)}"
        mismatch = _key_mismatch(got, expected)
        if mismatch is not None:
            return mismatch
        for key in expected:
            found = _close_all(got[key], expected[key], rel_tol, abs_tol, tolerance)
            if found is not None:
                return f"key {key!r}: {found}"
        return None
    return _close_one(got, expected, rel_tol, abs_tol, tolerance)


def _close(got: Any, expected: Any, rel_tol: float, abs_tol: float) -> tuple[bool, str]:
    tolerance = f"within {rel_tol:g} relative" + (f" or {abs_tol:g} absolute" if abs_tol else "")
    found = _close_all(got, expected, rel_tol, abs_tol, tolerance)
    if found is None:
        return True, f"passed (got {show(got)}, {tolerance})"
    return False, found


def _op_one(a: Any, op: str, b: Any, abs_tol: float) -> bool:
    """``a op b`` for two plain leaves: numbers with ``abs_tol`` of slack, else == / != only."""
    if _is_number(a) and _is_number(b):
        if math.isnan(a) or math.isnan(b):
            return False
        if op == "==":
            return bool(abs(a - b) <= abs_tol)
        if op == "!=":
            return bool(abs(a - b) > abs_tol)
        if op == "<":
            return bool(a < b + abs_tol)
        if op == "<=":
            return bool(a <= b + abs_tol)
        if op == ">":
            return bool(a > b - abs_tol)
        return bool(a >= b - abs_tol)  # ">="
    if op not in ("==", "!="):
        return False  # text, None or a bool is not ordered
    same = type(a) is type(b) and a == b
    return same if op == "==" else not same


def holds(
    left: Any, op: str, right: Any, abs_tol: float = 0.0, where: str = "", reveal: bool = False
) -> str | None:
    """None when ``left op right`` holds item by item; else the first place it does not.

    ``left`` is plain data: a number (or text, a bool, None: ``==``/``!=`` only), or a
    list or dict of those, nested. ``right`` has the same shape (same length, same keys)
    or is a single value that every item of ``left`` is compared with. An empty list or
    dict on the left never holds: there was nothing to compare. Numbers compare with
    ``abs_tol`` of slack (``a <= b + abs_tol``; ``==``: ``|a - b| <= abs_tol``); NaN never
    holds. The message names the item and the left value; the right one only when
    ``reveal`` (it may be a value the learner must not see).
    """
    if op not in OPS:
        return f"the check's operator {op!r} is not one of {', '.join(OPS)}"
    if type(left) in (list, dict) and not left:
        return f"got {show(left)}{where}: nothing to compare"
    if type(left) is list:
        if type(right) is list and len(right) != len(left):
            return f"{len(left)} items{where}, not {len(right)}"
        for i, a in enumerate(left):
            b = right[i] if type(right) is list else right
            found = holds(a, op, b, abs_tol, "", reveal)
            if found is not None:
                return f"item {i}{where}: {found}"
        return None
    if type(left) is dict:
        if type(right) is dict and (mismatch := _key_mismatch(left, right, where)):
            return mismatch
        for key, a in left.items():
            b = right[key] if type(right) is dict else right
            found = holds(a, op, b, abs_tol, "", reveal)
            if found is not None:
                return f"key {key!r}{where}: {found}"
        return None
    if type(right) in (list, dict):
        return f"got {show(left)}{where}, expected a {type(right).__name__}"
    if _op_one(left, op, right, abs_tol):
        return None
    return f"got {show(left)}{where}" + (f", not {op} {show(right)}" if reveal else "")


def _rule(got: Any, rule: dict[str, Any], abs_tol: float) -> tuple[bool, str]:
    """Judge a ``check_compare`` (bound from the reference) or a ``check_relation``."""
    op = str(rule.get("op"))
    if rule.get("rule") == "compare":
        found = holds(got, op, rule.get("bound"), abs_tol)
        if found is None:
            return True, f"passed (got {show(got)})"
        return False, f"{found}, not {op} the value the check computed"
    if rule.get("rule") == "relation":
        if type(got) is not dict or set(got) != {"left", "right"}:
            return False, f"expected the two sides of the relation, got {show(got)}"
        found = holds(got["left"], op, got["right"], abs_tol, reveal=True)
        if found is None:
            return True, f"passed (got {show(got['left'])} {op} {show(got['right'])})"
        return False, found
    return False, f"the check's rule {rule.get('rule')!r} is unknown"


def _key_mismatch(got: dict[Any, Any], expected: dict[Any, Any], where: str = "") -> str | None:
    """The first key missing from ``got`` or extra in it, in words, or None."""
    for key in expected:
        if key not in got:
            return f"key {key!r}{where} is missing"
    for key in got:
        if key not in expected:
            return f"key {key!r}{where} should not be there"
    return None


def _first_difference(got: Any, expected: Any, where: str = "") -> str | None:
    """Where two plain values first differ, in words ('key "b": got 3'), or None."""
    if type(got) is dict and type(expected) is dict:
        mismatch = _key_mismatch(got, expected, where)
        if mismatch is not None:
            return mismatch
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


def _builtins(value: Any, depth: int = 0) -> Any:
    """Data read back from a notebook as exact builtins: nbformat gives its dicts as
    ``NotebookNode`` (a dict subclass), which the type checks here would not accept."""
    if depth > 40:
        return value
    if isinstance(value, dict):
        return {k: _builtins(v, depth + 1) for k, v in value.items()}
    if type(value) is list:
        return [_builtins(v, depth + 1) for v in value]
    return value


def judge(
    kind: str, got: Any, expected: Any = None, rel_tol: float = 1e-6, abs_tol: float = 0.0
) -> tuple[bool, str]:
    """Whether a plain answer passes, and the feedback (never the expected value).

    Args:
        kind: ``"close"`` (numbers within tolerance; lists and dicts of numbers item
            by item), ``"equal"`` (the same plain data; for dicts and lists the feedback
            names the first key or item that differs) or ``"true"``: with ``expected`` a
            rule (``{"rule": "compare", "op": "<=", "bound": 5}`` or ``{"rule":
            "relation", "op": ">="}``, from ``check_compare``/``check_relation``), the
            rule is applied here to the plain answer (see :func:`holds`); otherwise the
            legacy ``check_true``: ``got`` must be exactly ``True``, a condition the
            learner's kernel evaluated.
        got: the learner's answer, plain data.
        expected: the expected answer or rule, plain data.
        rel_tol: relative tolerance for ``"close"`` (``math.isclose`` semantics).
        abs_tol: absolute tolerance for ``"close"``; the slack of a rule's operator.
    """
    got, expected = _builtins(got), _builtins(expected)
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
        if type(expected) is dict and "rule" in expected:
            return _rule(got, expected, abs_tol)
        return (got is True), ("passed" if got is True else "does not hold")
    raise ValueError(f"kind must be 'close', 'equal' or 'true', got {kind!r}")
