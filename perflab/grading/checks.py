"""The check functions that exercise notebooks call.

A check cell recomputes the expected answer itself from the notebook's parameters and
hands both values to one of these functions. Each call prints friendly feedback in the
notebook (what was checked, what came, a hint, never the expected value) and records a
machine-readable result in the cell output, as a ``display_data`` of MIME type
``application/vnd.perflab.check+json``. ``perflab check`` reads those records back from
the executed notebook.

When ``perflab check`` runs a notebook it hands the kernel a fresh secret key for that
run (environment variable ``PERFLAB_CHECK_KEY``, removed as soon as this module is
imported). Each record is signed with it (HMAC-SHA256) and carries a digest of the cell
that called the check, so a printed or pasted "pass", or a check function redefined in
the learner's cell, does not count. This stops the honest mistakes and the casual
shortcut; code that sets out to attack the kernel it runs in can always win, which is
why a teacher still reads the notebooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = [
    "MIME_TYPE",
    "capture",
    "check_close",
    "check_equal",
    "check_prediction",
    "check_true",
    "param_fingerprint",
    "short_repr",
    "sign",
    "source_digest",
]

MIME_TYPE = "application/vnd.perflab.check+json"
"""The MIME type of a check record in a cell's outputs."""


def _in_kernel() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None


# Inside the kernel the key leaves the environment once read, out of casual view; the
# grader's own processes (which import this module too) must pass it on untouched.
_take = os.environ.pop if _in_kernel() else os.environ.get
_KEY: bytes = _take("PERFLAB_CHECK_KEY", "").encode()
_PARAM_NAMES: tuple[str, ...] = tuple(n for n in _take("PERFLAB_CHECK_PARAMS", "").split(",") if n)
del _take
_REPR_MAX = 200
_sink: list[dict[str, Any]] | None = None
_seq = 0


def source_digest(source: str) -> str:
    """Digest of a cell's source, blind to trailing spaces and blank edge lines.

    The grader compares the digest a check recorded for its calling cell with the digest
    of the check cell it found the record in.
    """
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sign(record: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of a record (without its ``sig`` field), hex-encoded."""
    body = {k: v for k, v in record.items() if k != "sig"}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


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
    """``repr(value)``, cut to 200 characters: how records show values (and parameters)."""
    text = repr(value)
    return text if len(text) <= _REPR_MAX else text[: _REPR_MAX - 3] + "..."


def param_fingerprint(value: Any) -> str:
    """How a record shows a parameter's value: its repr, or for a long one a cut repr
    plus a digest of the whole, so the grader can still tell any change apart."""
    text = repr(value)
    if len(text) <= _REPR_MAX:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{short_repr(value)} #{digest}"


def _show(value: Any) -> str:
    """A value as a learner wants to read it: floats to 6 significant digits."""
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, float):
        return f"{value:.6g}"
    return short_repr(value)


def _caller_frame() -> FrameType | None:
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return frame


def _caller_digest() -> str:
    import linecache

    frame = _caller_frame()
    if frame is None:
        return ""
    return source_digest("".join(linecache.getlines(frame.f_code.co_filename)))


def _params() -> dict[str, str]:
    if not _PARAM_NAMES:
        return {}
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return {}
    shell = get_ipython()
    namespace: dict[str, Any] = shell.user_ns if shell is not None else {}
    return {name: param_fingerprint(namespace.get(name, "<missing>")) for name in _PARAM_NAMES}


def _emit(exercise: str, what: str, status: str, got: Any, hint: str, detail: str) -> None:
    global _seq
    _seq += 1
    mark = {"passed": "\u2714", "failed": "\u2718"}.get(status, "\u2139")
    lines = [f"{mark} [{exercise}] {what}: {detail}"]
    if hint and status == "failed":
        lines.append(f"  hint: {hint}")
    message = "\n".join(lines)
    record: dict[str, Any] = {
        "v": 1,
        "exercise": str(exercise),
        "what": str(what),
        "status": status,
        "got": short_repr(got),
        "hint": hint,
        "message": message,
        "params": _params(),
        "caller": _caller_digest(),
        "seq": _seq,
    }
    record["sig"] = sign(record, _KEY) if _KEY else None
    if _sink is not None:
        _sink.append(record)
        return
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(message)
        return
    if get_ipython() is None:
        print(message)
        return
    display({"text/plain": message, MIME_TYPE: record}, raw=True)  # type: ignore[no-untyped-call]


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, np.generic) and np.issubdtype(type(value), np.number)


def check_close(
    exercise: str,
    what: str,
    got: Any,
    expected: float,
    *,
    rel_tol: float = 1e-6,
    abs_tol: float = 0.0,
    hint: str = "",
) -> None:
    """Check that a number is close to the value the check computed.

    Args:
        exercise: the exercise id, as in the cell's ``perflab`` metadata.
        what: what was checked, in words ("cost per request in dollars").
        got: the learner's value.
        expected: the value the check cell recomputed from the parameters; never shown.
        rel_tol: allowed relative difference (``math.isclose`` semantics).
        abs_tol: allowed absolute difference.
        hint: shown when the check fails.
    """
    tolerance = f"within {rel_tol:g} relative" + (f" or {abs_tol:g} absolute" if abs_tol else "")
    if got is None or got is ... or not _is_number(got):
        _emit(
            exercise,
            what,
            "failed",
            got,
            hint,
            f"expected a number, got {type(got).__name__} {_show(got)}",
        )
        return
    value = float(got)
    if math.isnan(value):
        _emit(exercise, what, "failed", got, hint, "got NaN (not a number)")
        return
    if math.isclose(value, float(expected), rel_tol=rel_tol, abs_tol=abs_tol):
        _emit(exercise, what, "passed", got, hint, f"passed (got {_show(got)}, {tolerance})")
        return
    direction = "too high" if value > float(expected) else "too low"
    _emit(
        exercise,
        what,
        "failed",
        got,
        hint,
        f"got {_show(got)}, {direction}: not {tolerance} of what the check computed "
        "from this notebook's parameters",
    )


def check_equal(exercise: str, what: str, got: Any, expected: Any, *, hint: str = "") -> None:
    """Check that a value equals the one the check computed (``==``; arrays elementwise).

    Args:
        exercise: the exercise id.
        what: what was checked, in words.
        got: the learner's value.
        expected: the value the check cell computed; never shown.
        hint: shown when the check fails.
    """
    try:
        import numpy as np

        if isinstance(got, np.ndarray) or isinstance(expected, np.ndarray):
            same = bool(np.array_equal(np.asarray(got), np.asarray(expected)))
        else:
            same = bool(got == expected)
    except Exception:  # noqa: BLE001 - a learner's object whose == raises or returns nonsense
        same = False
    if same:
        _emit(exercise, what, "passed", got, hint, f"passed (got {_show(got)})")
    else:
        _emit(
            exercise,
            what,
            "failed",
            got,
            hint,
            f"got {_show(got)}, not what the check computed from this notebook's parameters",
        )


def check_true(
    exercise: str, what: str, condition: Any, *, got: Any = None, hint: str = ""
) -> None:
    """Check that a condition about the learner's work holds (a mechanism, a count).

    Args:
        exercise: the exercise id.
        what: the condition in words ("the API was called once per cache miss").
        condition: must be exactly ``True`` (or a numpy true bool) to pass.
        got: the value to show in the feedback, if any.
        hint: shown when the check fails.
    """
    passed = condition is True
    if not passed and type(condition).__module__ == "numpy":
        import numpy as np

        passed = isinstance(condition, np.bool_) and bool(condition)
    shown = f" (got {_show(got)})" if got is not None else ""
    if passed:
        _emit(exercise, what, "passed", got, hint, f"passed{shown}")
    else:
        _emit(exercise, what, "failed", got, hint, f"does not hold{shown}")


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
    if prediction is None or prediction is ... or not _is_number(prediction):
        _emit(
            exercise,
            what,
            "info",
            prediction,
            "",
            "no prediction written: write your guess down before you run, it's the "
            "best way to learn what surprises you",
        )
        return
    if not _is_number(measured):
        _emit(exercise, what, "info", prediction, "", f"you predicted {prediction}{unit}")
        return
    gap = float(measured) - float(prediction)
    _emit(
        exercise,
        what,
        "info",
        prediction,
        "",
        f"you predicted {float(prediction):.4g}{unit}; you measured "
        f"{float(measured):.4g}{unit} (off by {gap:+.3g}{unit})",
    )
