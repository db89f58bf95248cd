"""Predict, then run: write a guess down before a lesson reveals the number.

Intuition about performance is often wrong, and the only way to find out how wrong is
to write the guess down *before* the measurement and compare afterwards. A lesson makes
one ``Predictions`` object at its top and uses two calls:

    predictions = Predictions("01")                     # once, with the lesson's id

    # a cell tagged `predict`: replace None with your guess (a range is optional)
    predictions.guess("p99_first_sample", None, low=None, high=None, unit="s")

    # ... the cells that measure ...
    predictions.reveal("p99_first_sample", p99)         # guess next to the measurement

``guess`` records the guess in the learner's data folder (``predictions.sqlite3`` in
``perflab.paths.data_dir()``, so PERFLAB_DATA_DIR is honoured) *before* the reveal runs.
``reveal`` prints the guess beside the measured value and how far off it was.

Three rules keep this honest and keep the shipped notebooks deterministic:

* ``reveal`` shows only a guess made through *this* ``Predictions`` object in this kernel
  session, never one read back from the data folder. Shipped notebooks hold ``None``, so
  their reveal always prints the same "no guess recorded" line, whatever a tester has in
  their own data folder, and nbval can compare it strictly.
* Nothing is written while there is no guess: running a shipped notebook (nbval,
  papermill) leaves the data folder untouched.
* A guess written or changed after its reveal has run (in this session, or recorded in
  the data folder) is kept but marked *hindsight*, and ``calibration`` leaves it out.
  Re-running a notebook with the same guess changes nothing.

Writes are SQLite transactions, so two kernels writing at once lose nothing, and a file
that is not a predictions file is refused with one clear message and left untouched.
``load_predictions`` and ``calibration`` are what ``perflab course`` shows; ``compare``
is the arithmetic behind a reveal, for exercise checks that want the same numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from perflab._predictions_file import (
    FILE_NAME,
    PredictionsFileError,
    predictions_path,
    read_guesses,
    record_guess,
    record_reveal,
    transaction,
)

__all__ = [
    "CURRENCY_UNITS",
    "FILE_NAME",
    "Calibration",
    "Comparison",
    "Prediction",
    "Predictions",
    "PredictionsFileError",
    "calibration",
    "compare",
    "format_value",
    "load_predictions",
    "notebook_problems",
    "predictions_path",
]


@dataclass(frozen=True)
class Prediction:
    """One recorded guess, as ``load_predictions`` returns it.

    Attributes:
        lesson: the lesson id ("01").
        name: what was guessed ("p99_first_sample").
        value: the guess.
        low, high: the range the learner gave (either may be ``None``).
        recorded_at: when the guess was written (UTC).
        hindsight: written or changed after its reveal had run; not counted in calibration.
        measured: the latest revealed value, or ``None`` if the reveal has not run.
        unit: the unit given with the guess ("s"), or "".
    """

    lesson: str
    name: str
    value: float
    low: float | None
    high: float | None
    recorded_at: datetime
    hindsight: bool
    measured: float | None
    unit: str = ""

    @property
    def has_range(self) -> bool:
        """Whether the learner gave a low or a high bound."""
        return self.low is not None or self.high is not None


@dataclass(frozen=True)
class Comparison:
    """A guess beside a measurement.

    Attributes:
        guess: the guessed value.
        measured: the measured value.
        difference: ``measured - guess`` (positive: the guess was too low).
        ratio: ``guess / measured`` (1 is exact, 0.5 is half); ``None`` when measured is 0.
        in_range: whether ``low <= measured <= high`` (a missing bound is open);
            ``None`` when no range was given.
    """

    guess: float
    measured: float
    difference: float
    ratio: float | None
    in_range: bool | None


@dataclass(frozen=True)
class Calibration:
    """How well a learner's guesses matched their measurements.

    Attributes:
        count: guesses made before their reveal (hindsight ones are not counted).
        revealed: of those, how many have been revealed (have a measured value).
        hindsight: guesses written after their reveal (kept, not counted).
        median_ratio: median of guess / measured over the revealed ones (1 is perfect,
            below 1 means guessing low); ``None`` with nothing to compare.
        with_range: revealed guesses that came with a range.
        in_range_rate: share of those whose measured value fell inside the range;
            ``None`` when no revealed guess had a range.
    """

    count: int
    revealed: int
    hindsight: int
    median_ratio: float | None
    with_range: int
    in_range_rate: float | None

    def describe(self) -> str:
        """One line for people, e.g. ``12 predictions, 10 revealed: median guess/measured 0.62``."""
        text = f"{self.count} prediction{'s' if self.count != 1 else ''}, {self.revealed} revealed"
        if self.median_ratio is not None:
            text += f": median guess/measured {self.median_ratio:.2f}"
        if self.in_range_rate is not None:
            text += f"; {self.in_range_rate:.0%} of {self.with_range} ranges held the measurement"
        if self.hindsight:
            text += f" ({self.hindsight} hindsight, not counted)"
        return text


# ----------------------------------------------------------------------- arithmetic
def compare(
    guess: float, measured: float, *, low: float | None = None, high: float | None = None
) -> Comparison:
    """Compare a guess with a measurement: difference, ratio, and whether the range held."""
    ratio = guess / measured if measured != 0 else None
    in_range = None
    if low is not None or high is not None:
        in_range = (low is None or low <= measured) and (high is None or measured <= high)
    return Comparison(guess, measured, measured - guess, ratio, in_range)


def calibration(preds: Iterable[Prediction]) -> Calibration:
    """Summarise predictions: how many, the median guess/measured ratio, ranges that held."""
    preds = list(preds)
    honest = [p for p in preds if not p.hindsight]
    revealed = [p for p in honest if p.measured is not None]
    ratios = [p.value / p.measured for p in revealed if p.measured]
    ranged = [p for p in revealed if p.has_range]
    held = [
        p for p in ranged if compare(p.value, p.measured or 0.0, low=p.low, high=p.high).in_range
    ]
    return Calibration(
        count=len(honest),
        revealed=len(revealed),
        hindsight=len(preds) - len(honest),
        median_ratio=statistics.median(ratios) if ratios else None,
        with_range=len(ranged),
        in_range_rate=len(held) / len(ranged) if ranged else None,
    )


#: Units written before the number, as people write money: "$2.15", "-$0.40".
CURRENCY_UNITS = frozenset({"$", "€", "£"})


def format_value(value: float, unit: str = "") -> str:
    """A number as a reveal prints it: 3 significant digits, thousands grouped, the unit.

    "%" and "x" follow the number ("65.2%", "1.78x"), a currency comes before it ("$2.15",
    "-$0.4"), any other unit follows after a space ("0.5 s").
    """
    size = abs(value)
    if value == 0:
        text = "0"
    elif size >= 1000:
        text = f"{size:,.0f}"
    elif size >= 100:
        text = f"{size:.0f}"
    else:
        text = f"{size:.3g}"
    sign = "-" if value < 0 and text != "0" else ""
    if unit in CURRENCY_UNITS:
        return f"{sign}{unit}{text}"
    text = sign + text
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "x") else f"{text} {unit}"


def _range_text(low: float | None, high: float | None, unit: str) -> str:
    if low is not None and high is not None:
        # "0.2 to 1 s", but "$1 to $3": a currency sign goes with each number
        first = format_value(low, unit) if unit in CURRENCY_UNITS else format_value(low)
        return f"{first} to {format_value(high, unit)}"
    if low is not None:
        return f"at least {format_value(low, unit)}"
    return f"at most {format_value(high or 0.0, unit)}"


# ----------------------------------------------------------------------- input checks
def _number(what: str, value: Any, *, allow_none: bool) -> float | None:
    if value is None or value is ...:
        if allow_none:
            return None
        raise TypeError(f"{what} must be a number, got None")
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()  # a numpy scalar
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = repr(value)[:40]
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {shown}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {number}")
    return number


def _key(what: str, text: Any) -> str:
    if not isinstance(text, str) or not text.strip() or any(c in text for c in "\r\n\t"):
        raise ValueError(
            f"{what} must be a short one-line text such as 'p99_first_sample', got {text!r}"
        )
    return text.strip()


def load_predictions(data_dir: Path | None = None) -> list[Prediction]:
    """Every recorded guess, oldest first, each with its latest measured value.

    Args:
        data_dir: the data folder (default ``perflab.paths.data_dir()``).

    Returns:
        The guesses; an empty list when nothing was ever recorded.

    Raises:
        PredictionsFileError: the file is corrupted or foreign (it is left untouched).
    """
    return [
        Prediction(
            lesson=r[0],
            name=r[1],
            value=r[2],
            low=r[3],
            high=r[4],
            recorded_at=datetime.fromisoformat(r[5]),
            hindsight=bool(r[6]),
            measured=r[7],
            unit=r[8],
        )
        for r in read_guesses(predictions_path(data_dir))
    ]


def notebook_problems(nb: Mapping[str, Any], where: str = "notebook") -> list[str]:
    """What is wrong with a lesson notebook's prediction cells (an empty list: nothing).

    The rules: ``Predictions`` gets the notebook's ``metadata.perflab.course.id``; every
    ``guess`` sits in a cell tagged ``predict``, names its prediction with a literal, is
    shipped with ``None`` and asks once per name; every tagged cell asks for a guess; every
    guess is revealed in a later cell, and every reveal follows its guess.

    Args:
        nb: the notebook, as parsed JSON (``json.load`` or ``nbformat.read``).
        where: how messages name the notebook (its path).
    """
    from perflab._predictions_lint import notebook_problems as check

    return check(nb, where)


# ----------------------------------------------------------------------- the API
@dataclass(frozen=True)
class _Guess:
    value: float
    low: float | None
    high: float | None
    unit: str
    hindsight: bool


class Predictions:
    """A lesson's guesses: ``guess`` before a number is measured, ``reveal`` after.

    Make one at the top of a lesson, with the lesson's id (its notebook's
    ``metadata.perflab.course.id``): ``predictions = Predictions("01")``.

    Args:
        lesson: the lesson id, e.g. ``"01"``.
        data_dir: where the predictions file lives (default: perflab's data folder,
            ``PERFLAB_DATA_DIR`` if set).

    Raises:
        ValueError: the lesson id is empty or not one line of text.
    """

    def __init__(self, lesson: str, *, data_dir: Path | None = None) -> None:
        self.lesson = _key("lesson", lesson)
        self._data_dir = data_dir
        self._guesses: dict[str, _Guess] = {}
        self._units: dict[str, str] = {}
        self._revealed: set[str] = set()

    def __repr__(self) -> str:
        return (
            f"<Predictions lesson {self.lesson} "
            f"[{len(self._guesses)} guessed, {len(self._revealed)} revealed]>"
        )

    def guess(
        self,
        name: str,
        value: float | None,
        *,
        low: float | None = None,
        high: float | None = None,
        unit: str = "",
    ) -> None:
        """Write a guess down, before the cell that measures it runs.

        ``None`` means "no guess yet": nothing is recorded, and the reveal will say so.

        Args:
            name: what is guessed, short and stable ("p99_first_sample").
            value: the guess, or ``None``.
            low, high: optionally, the range you are fairly sure the answer is in.
            unit: shown with the numbers: after them ("s", "%", "x"), or before them
                for a currency ("$2.15").

        Raises:
            TypeError: the value or a bound is not a number.
            ValueError: the range is upside down, or leaves out the guess itself.
            PredictionsFileError: the predictions file is corrupted or foreign.
        """
        name = _key("name", name)
        guessed = _number(f"the guess for {name!r}", value, allow_none=True)
        lo = _number(f"low for {name!r}", low, allow_none=True)
        hi = _number(f"high for {name!r}", high, allow_none=True)
        self._units[name] = str(unit)
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"low ({lo:g}) must be <= high ({hi:g}) for {name!r}")
        if guessed is None:
            if lo is not None or hi is not None:
                raise ValueError(f"give a guess with your range for {name!r} (replace None)")
            self._guesses.pop(name, None)
            print(f"{name}: no guess yet; replace None with your guess and run this cell again")
            return
        if (lo is not None and guessed < lo) or (hi is not None and guessed > hi):
            raise ValueError(
                f"your guess {guessed:g} for {name!r} is outside your own range "
                f"{_range_text(lo, hi, '')}: the range should contain the guess"
            )
        record = (guessed, lo, hi, str(unit))
        with transaction(predictions_path(self._data_dir), create=True) as conn:
            assert conn is not None
            hindsight = record_guess(conn, (self.lesson, name), record, seen=name in self._revealed)
        self._guesses[name] = _Guess(*record, hindsight=hindsight)
        shown = format_value(guessed, unit)
        if lo is not None or hi is not None:
            shown += f" (range {_range_text(lo, hi, unit)})"
        if hindsight:
            print(
                f"{name}: guess {shown} kept as hindsight: its reveal has already run, "
                "so it does not count in your calibration"
            )
        else:
            print(f"{name}: guess {shown} recorded")

    def reveal(self, name: str, measured: float, *, unit: str | None = None) -> None:
        """Print the measured value next to this session's guess, and how far off it was.

        With no guess made in this session (the cell left at ``None``, or not run), it
        says so and still shows the number; the data folder is not read, so the output
        is the same on every machine.

        Args:
            name: the name given to ``guess``.
            measured: the measured value.
            unit: default: the unit given to ``guess``.

        Raises:
            TypeError: ``measured`` is not a number.
            PredictionsFileError: the predictions file is corrupted or foreign (the
                comparison is printed first).
        """
        name = _key("name", name)
        value = _number(f"the measured value for {name!r}", measured, allow_none=False)
        assert value is not None
        shown_unit = self._units.get(name, "") if unit is None else unit
        self._revealed.add(name)
        guessed = self._guesses.get(name)
        if guessed is None:
            print(
                f"{name}: no guess recorded; the measured value is "
                f"{format_value(value, shown_unit)}"
            )
            return
        print(_reveal_text(name, guessed, value, shown_unit))
        with transaction(predictions_path(self._data_dir), create=True) as conn:
            assert conn is not None
            record_reveal(conn, (self.lesson, name), value)


def _reveal_text(name: str, guessed: _Guess, measured: float, unit: str) -> str:
    result = compare(guessed.value, measured, low=guessed.low, high=guessed.high)
    yours = format_value(guessed.value, unit)
    if guessed.low is not None or guessed.high is not None:
        yours += f" (range {_range_text(guessed.low, guessed.high, unit)})"
    lines = [f"{name}:", f"  your guess  {yours}", f"  measured    {format_value(measured, unit)}"]
    if math.isclose(guessed.value, measured, rel_tol=1e-9, abs_tol=1e-12):
        lines.append("  off by      nothing: exactly right")
    else:
        way = "low" if result.difference > 0 else "high"
        off = f"  off by      {format_value(abs(result.difference), unit)} too {way}"
        if result.ratio is not None and result.ratio > 0:
            factor = max(result.ratio, 1 / result.ratio)
            off += f" (a factor of {format_value(factor)})"
        lines.append(off)
    if result.in_range is not None:
        if result.in_range:
            lines.append("  range       the measured value is inside your range")
        else:
            side = "above" if guessed.high is not None and measured > guessed.high else "below"
            lines.append(f"  range       the measured value is {side} your range")
    if guessed.hindsight:
        lines.append("  (hindsight: written after the reveal; not counted in your calibration)")
    return "\n".join(lines)
