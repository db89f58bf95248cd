"""Grading results, and the same results as a table, JSON, CSV and JUnit XML."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from xml.etree import ElementTree as ET

__all__ = [
    "NOTEBOOK_ROW",
    "ExerciseResult",
    "NotebookReport",
    "Prediction",
    "Status",
    "exit_code",
    "format_table",
    "from_json",
    "prediction_from_record",
    "predictions_in",
    "to_csv",
    "to_json",
    "to_junit",
]

NOTEBOOK_ROW = "(notebook)"
"""The exercise column of a row about the notebook as a whole."""


class Status(str, Enum):
    """The verdict on one exercise (or, for notebook rows, on the notebook)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_RUN = "not run"
    MISSING = "missing"
    TAMPERED = "tampered"
    WARNING = "warning"
    UNGRADED = "ungraded"

    @property
    def is_ok(self) -> bool:
        """True for verdicts that don't fail a notebook (passed, warning)."""
        return self in (Status.PASSED, Status.WARNING)


@dataclass(frozen=True)
class ExerciseResult:
    """The verdict on one exercise of one notebook.

    Attributes:
        exercise: the exercise id, or ``NOTEBOOK_ROW`` for a note on the whole notebook.
        status: the verdict.
        feedback: what was checked, what came and a hint; never the expected value.
        cell: the 1-based cell number (in the learner's notebook) the verdict is about.
        seed: the seed of the run the feedback comes from, when it depends on one.
    """

    exercise: str
    status: Status
    feedback: str
    cell: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class Prediction:
    """A learner's written-down guess beside what they then measured (``check_prediction``).

    Informational: it never changes a verdict. The room report compares the room's
    guesses with its measurements, to show which results surprised the room.

    Attributes:
        exercise: the exercise id.
        what: the quantity predicted ("the hit rate").
        predicted: the guess; None when the learner wrote none.
        measured: the learner's own measurement; None when it was not a number.
    """

    exercise: str
    what: str
    predicted: float | None
    measured: float | None


_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_PREDICTED = re.compile(rf"you predicted {_NUM}\S*; you measured {_NUM}\S* \(off by")


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def prediction_from_record(record: dict[str, object]) -> Prediction | None:
    """The prediction in a ``check_prediction`` record (status ``info``), or None.

    Reads ``predicted``/``measured`` fields when the record has them, else the numbers
    in its message ("you predicted 0.5; you measured 0.62 (off by ...)").
    """
    if record.get("status") != "info":
        return None
    predicted, measured = _number(record.get("predicted")), _number(record.get("measured"))
    if predicted is None and measured is None:
        match = _PREDICTED.search(str(record.get("message", "")))
        if match is not None:
            predicted, measured = _number(match[1]), _number(match[2])
    if predicted is None and "no prediction written" not in str(record.get("message", "")):
        return None
    import os

    from perflab.grading.environment import scrub, secret_values

    # the words come from the learner's kernel (a redefined check_prediction): scrub them
    hidden = secret_values(os.environ)
    return Prediction(
        scrub(str(record.get("exercise", "")), hidden)[:200],
        scrub(str(record.get("what", "")), hidden)[:500],
        predicted,
        measured,
    )


def predictions_in(nb: object) -> tuple[Prediction, ...]:
    """Every ``check_prediction`` record in an executed notebook's check cells, in order.

    Args:
        nb: an executed notebook (nbformat NotebookNode, or the same as plain dicts).

    Returns:
        The predictions; empty when the notebook has none.
    """
    from perflab.grading.checks import MIME_TYPE

    found: list[Prediction] = []
    for cell in getattr(nb, "cells", None) or (nb.get("cells", []) if isinstance(nb, dict) else []):
        meta = cell.get("metadata", {}).get("perflab", {})
        if not isinstance(meta, dict) or meta.get("role") != "check":
            continue
        for out in cell.get("outputs", []):
            record = (out.get("data") or {}).get(MIME_TYPE)
            if isinstance(record, dict) and (p := prediction_from_record(record)) is not None:
                found.append(p)
    return tuple(found)


@dataclass(frozen=True)
class NotebookReport:
    """Every verdict on one notebook, over all the seeds it was run with.

    Attributes:
        path: the notebook's path as given.
        learner: the learner's name (their sub-folder or file stem in a batch).
        results: one row per exercise, then notebook rows.
        seeds: the seeds the notebook was run with.
        duration_s: wall time spent checking it.
        predictions: the learner's predictions and measurements (first run's), if any.
    """

    path: str
    learner: str
    results: tuple[ExerciseResult, ...]
    seeds: tuple[int, ...] = ()
    duration_s: float = 0.0
    notes: tuple[str, ...] = field(default=())
    predictions: tuple[Prediction, ...] = field(default=())

    @property
    def exercises(self) -> tuple[ExerciseResult, ...]:
        """The rows about exercises (not the notebook rows)."""
        return tuple(r for r in self.results if r.exercise != NOTEBOOK_ROW)

    @property
    def passed(self) -> bool:
        """True when every row is passed or a warning."""
        return all(r.status.is_ok for r in self.results)


def exit_code(reports: list[NotebookReport]) -> int:
    """0: every check passed; 1: an exercise did not pass; 2: a notebook could not be graded."""
    rows = [r for rep in reports for r in rep.results]
    if any(r.status is Status.UNGRADED for r in rows):
        return 2
    return 0 if rows and all(r.status.is_ok for r in rows) else 1


def summary_line(reports: list[NotebookReport]) -> str:
    """One sentence on what ran and what passed, scoped to what actually ran."""
    rows = [r for rep in reports for r in rep.exercises]
    passed = sum(r.status is Status.PASSED for r in rows)
    not_run = sum(r.status is Status.NOT_RUN for r in rows)
    ungraded = sum(r.status is Status.UNGRADED for rep in reports for r in rep.results)
    seeds = sorted({s for rep in reports for s in rep.seeds})
    where = f"{len(reports)} notebook{'s' if len(reports) != 1 else ''}"
    if seeds:
        where += f", seed{'s' if len(seeds) != 1 else ''} {', '.join(map(str, seeds))}"
    if rows and passed == len(rows) and not ungraded:
        return f"All checks passed: {passed} exercise{'s' if passed != 1 else ''} ({where})."
    text = f"{passed} of {len(rows)} exercises passed their checks ({where})"
    if not_run:
        text += f"; {not_run} not run"
    if ungraded:
        text += f"; {ungraded} notebook{'s' if ungraded != 1 else ''} could not be graded"
    return text + "."


def format_table(reports: list[NotebookReport], width: int = 100) -> str:
    """A plain-text table: notebook, exercise, status, feedback; then a summary line."""
    header = ("notebook", "exercise", "status", "feedback")
    rows = [
        (rep.path, r.exercise, r.status.value, r.feedback) for rep in reports for r in rep.results
    ]
    w0 = min(max([len(header[0])] + [len(r[0]) for r in rows]), 40)
    w1 = min(max([len(header[1])] + [len(r[1]) for r in rows]), 24)
    w2 = max([len(header[2])] + [len(r[2]) for r in rows])
    lines = [
        f"{header[0]:<{w0}}  {header[1]:<{w1}}  {header[2]:<{w2}}  {header[3]}",
        f"{'-' * w0}  {'-' * w1}  {'-' * w2}  {'-' * 8}",
    ]
    indent = " " * (w0 + w1 + w2 + 6)
    for nb, ex, status, feedback in rows:
        nb = nb if len(nb) <= w0 else "..." + nb[-(w0 - 3) :]
        first, *rest = feedback.splitlines() or [""]
        lines.append(f"{nb:<{w0}}  {ex:<{w1}}  {status:<{w2}}  {first}")
        lines.extend(indent + line for line in rest)
    lines.append("")
    lines.append(summary_line(reports))
    return "\n".join(lines)


def _row_dict(rep: NotebookReport, r: ExerciseResult) -> dict[str, object]:
    data = asdict(r)
    data["status"] = r.status.value
    return {"notebook": rep.path, "learner": rep.learner, **data}


def to_json(reports: list[NotebookReport]) -> str:
    """All results as JSON: a list of notebooks with their rows, plus the exit code."""
    return json.dumps(
        {
            "exit_code": exit_code(reports),
            "summary": summary_line(reports),
            "notebooks": [
                {
                    "notebook": rep.path,
                    "learner": rep.learner,
                    "seeds": list(rep.seeds),
                    "passed": rep.passed,
                    "duration_s": round(rep.duration_s, 3),
                    "results": [_row_dict(rep, r) for r in rep.results],
                    "predictions": [asdict(p) for p in rep.predictions],
                }
                for rep in reports
            ],
        },
        indent=2,
    )


def from_json(text: str) -> list[NotebookReport]:
    """The reports back from ``to_json``'s text (to merge shards, or re-render a run).

    Raises:
        ValueError: the text is not JSON written by ``to_json``; says what is missing.
    """
    try:
        data = json.loads(text)
        return [
            NotebookReport(
                path=str(nb["notebook"]),
                learner=str(nb["learner"]),
                results=tuple(
                    ExerciseResult(
                        exercise=str(r["exercise"]),
                        status=Status(r["status"]),
                        feedback=str(r["feedback"]),
                        cell=None if r.get("cell") is None else int(r["cell"]),
                        seed=None if r.get("seed") is None else int(r["seed"]),
                    )
                    for r in nb["results"]
                ),
                seeds=tuple(int(s) for s in nb["seeds"]),
                duration_s=float(nb["duration_s"]),
                predictions=tuple(
                    Prediction(
                        str(p["exercise"]),
                        str(p["what"]),
                        _number(p["predicted"]),
                        _number(p["measured"]),
                    )
                    for p in nb.get("predictions", [])
                ),
            )
            for nb in data["notebooks"]
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not the JSON of perflab check --json: missing or bad {exc}") from exc


def to_csv(reports: list[NotebookReport]) -> str:
    """A learner x exercise grid of statuses, then ``notes`` (notebook rows) and ``predictions``.

    ``predictions`` lists each guess the learner wrote with ``check_prediction`` beside
    what they measured ("01.tail share slower: guessed 0.05, measured 0.0098"), so a
    teacher can see what a room expected.
    """
    exercises: list[str] = []
    for rep in reports:
        for r in rep.exercises:
            if r.exercise not in exercises:
                exercises.append(r.exercise)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["learner", "notebook", *exercises, "passed", "notes", "predictions"])
    for rep in reports:
        by_id = {r.exercise: r.status.value for r in rep.exercises}
        notes = "; ".join(
            f"{r.status.value}: {r.feedback}" for r in rep.results if r.exercise == NOTEBOOK_ROW
        )
        passed = sum(r.status is Status.PASSED for r in rep.exercises)
        writer.writerow(
            [
                rep.learner,
                rep.path,
                *(by_id.get(e, "") for e in exercises),
                f"{passed}/{len(rep.exercises)}",
                notes,
                "; ".join(
                    f"{p.exercise} {p.what}: guessed {_plain(p.predicted)}, "
                    f"measured {_plain(p.measured)}"
                    for p in rep.predictions
                ),
            ]
        )
    return out.getvalue()


def _plain(value: float | None) -> str:
    return "nothing" if value is None else f"{value:.4g}"


def to_junit(reports: list[NotebookReport]) -> str:
    """JUnit XML: a test suite per notebook, a test case per exercise."""
    suites = ET.Element("testsuites", name="perflab check")
    for rep in reports:
        failures = sum(
            r.status in (Status.FAILED, Status.TAMPERED, Status.MISSING) for r in rep.results
        )
        errors = sum(
            r.status in (Status.ERROR, Status.TIMEOUT, Status.UNGRADED) for r in rep.results
        )
        skipped = sum(r.status in (Status.NOT_RUN, Status.WARNING) for r in rep.results)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=rep.path,
            tests=str(len(rep.results)),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time=f"{rep.duration_s:.3f}",
        )
        for r in rep.results:
            case = ET.SubElement(
                suite, "testcase", classname=rep.learner or rep.path, name=r.exercise
            )
            if r.status in (Status.FAILED, Status.TAMPERED, Status.MISSING):
                ET.SubElement(case, "failure", message=r.status.value).text = r.feedback
            elif r.status in (Status.ERROR, Status.TIMEOUT, Status.UNGRADED):
                ET.SubElement(case, "error", message=r.status.value).text = r.feedback
            elif r.status in (Status.NOT_RUN, Status.WARNING):
                ET.SubElement(case, "skipped", message=r.status.value).text = r.feedback
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
