"""Grade an executed notebook: every exercise, whatever happened during the run.

The grader reads only what the run left behind: the cells' outputs (errors and signed
check records), the run marks the worker wrote into the metadata (which cells started
and finished, timeouts, where the kernel died) and what the runner saw from outside
(files written, the whole-run cap). It finds cells by their ``perflab`` metadata, never
by position, and never raises: anything odd becomes a verdict the learner can act on.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from perflab.grading._worker import RUN_KEY
from perflab.grading.checks import (
    MIME_TYPE,
    param_fingerprint,
    short_repr,
    sign,
    source_digest,
)
from perflab.grading.notebook import Manifest, cell_tag, parse_parameters
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, Status

__all__ = ["RunInfo", "combine_runs", "grade_run"]


@dataclass
class RunInfo:
    """What the runner knows about one execution of a notebook.

    Attributes:
        seed: the seed injected (None when the notebook has no ``seed`` parameter).
        parameters: every value injected into the parameters cell.
        key: the run's signing key.
        timeout_s: the per-cell timeout.
        outcome: the worker's result (``{"outcome": "ran"}`` and maybe an error).
        capped_after_s: set when the whole-run cap killed the run.
        files_written: files the notebook left in its scratch folder.
        file_modified: the learner's file changed on disk during the run.
    """

    seed: int | None
    parameters: dict[str, Any]
    key: bytes
    timeout_s: float
    outcome: dict[str, Any] = field(default_factory=dict)
    capped_after_s: float | None = None
    files_written: list[str] = field(default_factory=list)
    file_modified: bool = False


def _numbered(nb: Any) -> list[tuple[int, Any]]:
    """(learner's 1-based cell number, cell), without papermill's injected cell."""
    out, number = [], 0
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        number += 1
        out.append((number, cell))
    return out


def _marks(cell: Any) -> dict[str, Any]:
    marks = cell.get("metadata", {}).get(RUN_KEY, {})
    return marks if isinstance(marks, dict) else {}


def _error(cell: Any) -> tuple[str, str] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return str(out.get("ename", "")), str(out.get("evalue", ""))
    return None


def _stop_reason(numbered: list[tuple[int, Any]], info: RunInfo) -> str:
    for number, cell in numbered:
        marks = _marks(cell)
        if marks.get("started") and not marks.get("done"):
            if info.capped_after_s is not None:
                return (
                    f"the whole run was stopped after {info.capped_after_s:g} s, at cell {number}"
                )
            if marks.get("timed_out"):
                return f"cell {number} ignored the interrupt after its timeout"
            return f"kernel died at cell {number}"
    if info.capped_after_s is not None:
        return f"the whole run was stopped after {info.capped_after_s:g} s"
    message = info.outcome.get("message")
    return f"the run stopped early: {message}" if message else "the run stopped early"


def _cell_problem(
    number: int, cell: Any, role: str, info: RunInfo, stop: str
) -> ExerciseResult | None:
    marks = _marks(cell)
    seed = info.seed
    if not marks.get("started"):
        return ExerciseResult("", Status.NOT_RUN, f"not run ({stop})", number, seed)
    if marks.get("timed_out"):
        return ExerciseResult(
            "",
            Status.TIMEOUT,
            (
                f"cell {number} ran longer than the {marks['timed_out']} s cell timeout and was "
                "stopped; look for a loop that never ends, or make the work smaller"
            ),
            number,
            seed,
        )
    if not marks.get("done"):
        if info.capped_after_s is not None:
            return ExerciseResult(
                "",
                Status.TIMEOUT,
                (
                    f"cell {number} was still running when the whole run hit its "
                    f"{info.capped_after_s:g} s cap"
                ),
                number,
                seed,
            )
        return ExerciseResult(
            "",
            Status.ERROR,
            (
                f"the kernel died while running cell {number} (os._exit, a crash, or out of "
                "memory?); cells after it did not run"
            ),
            number,
            seed,
        )
    error = _error(cell)
    if error is None:
        return None
    ename, evalue = error
    what = f"cell {number} raised {ename}" + (f": {evalue}" if evalue else "")
    if ename == "SystemExit":
        return ExerciseResult(
            "",
            Status.ERROR,
            (
                f"cell {number} called sys.exit({evalue}); a notebook can't stop its checks that way, "
                "and the rest of that cell never ran. Remove the call"
            ),
            number,
            seed,
        )
    if ename == "NotImplementedError" and role == "todo":
        return ExerciseResult(
            "",
            Status.FAILED,
            (
                f"not done yet: cell {number} still raises NotImplementedError; replace the TODO "
                "with your code"
            ),
            number,
            seed,
        )
    return ExerciseResult("", Status.ERROR, what[:500], number, seed)


def _verify(record: Any, number: int, cell: Any, info: RunInfo) -> str | None:
    """Why a record can't be trusted, or None when it can."""
    if not isinstance(record, dict):
        return f"cell {number} shows a malformed check result"
    sig = record.get("sig")
    if not isinstance(sig, str) or not hmac.compare_digest(sig, sign(record, info.key)):
        return (
            f"cell {number} shows a check result that this run's checks did not sign "
            "(printed or pasted by hand?)"
        )
    if record.get("caller") != source_digest(cell.get("source", "")):
        return (
            f"a check shown in cell {number} was called from code outside that check cell: "
            "were the check functions redefined or wrapped?"
        )
    seen = record.get("params") or {}
    for name, value in info.parameters.items():
        # compared the way the check recorded it (a long value: cut repr + digest)
        if name in seen and seen[name] != param_fingerprint(value):
            return (
                f"parameter `{name}` was {seen[name]} when the check ran, but the checker "
                f"set it to {short_repr(value)}: don't assign to the parameters in your code"
            )
    return None


def _grade_exercise(
    ex: str, numbered: list[tuple[int, Any]], manifest: Manifest, info: RunInfo, stop: str
) -> ExerciseResult:
    mine = [
        (n, c, t)
        for n, c in numbered
        if (t := cell_tag(c)) is not None
        and t.exercise == ex
        and t.role in ("todo", "check")
        and c.cell_type == "code"
    ]
    checks = [(n, c) for n, c, t in mine if t.role == "check"]
    if not checks:
        return ExerciseResult(
            ex,
            Status.MISSING,
            (
                f"no check cell for exercise {ex}: it was deleted or lost its metadata; copy it "
                "back from a fresh copy of the exercise notebook"
            ),
            None,
            info.seed,
        )
    expected = manifest.checks.get(ex)
    if expected:
        for n, c in checks:
            if source_digest(c.source) not in expected:
                return ExerciseResult(
                    ex,
                    Status.TAMPERED,
                    (
                        f"the check cell for {ex} (cell {n}) was edited; copy the original back from a "
                        "fresh copy of the exercise notebook"
                    ),
                    n,
                    info.seed,
                )
    for n, c, t in mine:
        problem = _cell_problem(n, c, t.role, info, stop)
        if problem is not None:
            return ExerciseResult(ex, problem.status, problem.feedback, problem.cell, info.seed)
    passed: list[str] = []
    failed: list[str] = []
    for n, c in checks:
        records = [
            o.get("data", {}).get(MIME_TYPE)
            for o in c.get("outputs", [])
            if o.get("output_type") == "display_data" and MIME_TYPE in o.get("data", {})
        ]
        if not records:
            return ExerciseResult(
                ex,
                Status.TAMPERED,
                (
                    f"check cell {n} ran but no check reported a result: were the perflab check "
                    "functions redefined or removed?"
                ),
                n,
                info.seed,
            )
        for record in records:
            reason = _verify(record, n, c, info)
            if reason is not None:
                return ExerciseResult(ex, Status.TAMPERED, reason, n, info.seed)
            if record.get("status") == "failed":
                failed.append(str(record.get("message", "")))
            elif record.get("status") == "passed":
                passed.append(str(record.get("what", "")))
    if failed:
        return ExerciseResult(ex, Status.FAILED, "\n".join(failed), checks[0][0], info.seed)
    if not passed:
        return ExerciseResult(
            ex,
            Status.MISSING,
            (f"the check cells of {ex} only gave information, no check"),
            checks[0][0],
            info.seed,
        )
    note = (
        f" (check cell appears {len(checks)} times: delete the copies)" if len(checks) > 1 else ""
    )
    return ExerciseResult(
        ex,
        Status.PASSED,
        f"{len(passed)} check{'s' if len(passed) != 1 else ''} passed: " + "; ".join(passed) + note,
        checks[0][0],
        info.seed,
    )


def _notebook_rows(
    numbered: list[tuple[int, Any]], manifest: Manifest, info: RunInfo, exercises: list[str]
) -> list[ExerciseResult]:
    rows: list[ExerciseResult] = []

    def note(status: Status, text: str, cell: int | None = None) -> None:
        rows.append(ExerciseResult(NOTEBOOK_ROW, status, text, cell, info.seed))

    if info.file_modified:
        note(
            Status.TAMPERED,
            "the notebook file itself was changed while it was being checked "
            "(by code in the notebook?); it was put back as it was",
        )
    params = [
        (n, c) for n, c in numbered if (t := cell_tag(c)) is not None and t.role == "parameters"
    ]
    if not params and manifest.parameters:
        note(
            Status.WARNING,
            "no parameters cell (metadata role 'parameters'): the checker "
            "injected its values at the top of the notebook",
        )
    elif len(params) > 1:
        note(
            Status.WARNING,
            f"{len(params)} parameters cells (cells "
            f"{', '.join(str(n) for n, _ in params)}): keep one",
            params[1][0],
        )
    elif params:
        found = parse_parameters(params[0][1].source)
        edited = [
            f"{k} = {found[k]!r}"
            for k in manifest.parameters
            if k in found and found[k] != manifest.parameters[k]
        ]
        if edited:
            note(
                Status.WARNING,
                "the parameters cell was edited ("
                + ", ".join(edited)
                + "); the checker ignores edits there and sets its own values",
                params[0][0],
            )
    capped = [n for n, c in numbered if _marks(c).get("output_capped")]
    if capped:
        note(
            Status.WARNING,
            f"cell {capped[0]} printed more output than the checker keeps; "
            "the rest of the run's output was dropped (print less)",
            capped[0],
        )
    if info.files_written:
        shown = ", ".join(info.files_written[:8]) + (" ..." if len(info.files_written) > 8 else "")
        note(
            Status.WARNING,
            f"the notebook wrote files: {shown} (into a scratch folder, since "
            "deleted; your own folder was not touched)",
        )
    known = set(exercises)
    strays = sorted(
        {
            t.exercise
            for _, c in numbered
            if (t := cell_tag(c)) is not None and t.exercise and t.exercise not in known
        }
    )
    if strays:
        note(Status.WARNING, "cells tagged with unknown exercise ids: " + ", ".join(strays))
    return rows


def grade_run(nb: Any, manifest: Manifest, info: RunInfo) -> list[ExerciseResult]:
    """Grade one executed notebook (one seed); never raises.

    Args:
        nb: the executed notebook (nbformat NotebookNode).
        manifest: what the notebook's exercises are.
        info: what the runner knows about the run.

    Returns:
        One row per exercise, in the manifest's order, then notebook rows.
    """
    try:
        numbered = _numbered(nb)
        exercises = list(manifest.exercises)
        for _, cell in numbered:
            tag = cell_tag(cell)
            if (
                tag is not None
                and tag.role == "check"
                and tag.exercise
                and tag.exercise not in exercises
                and manifest.source == "cells"
            ):
                exercises.append(tag.exercise)
        if not exercises:
            return [
                ExerciseResult(
                    NOTEBOOK_ROW,
                    Status.MISSING,
                    (
                        "no exercises found: this notebook has no perflab check cells "
                        "(cells with metadata perflab.role = 'check')"
                    ),
                    None,
                    info.seed,
                )
            ]
        stop = _stop_reason(numbered, info)
        rows = [_grade_exercise(ex, numbered, manifest, info, stop) for ex in exercises]
        return rows + _notebook_rows(numbered, manifest, info, exercises)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not pass or crash anyone
        return [
            ExerciseResult(
                NOTEBOOK_ROW,
                Status.ERROR,
                f"the grader could not read the executed notebook: {exc!r}",
                None,
                info.seed,
            )
        ]


def combine_runs(runs: list[list[ExerciseResult]]) -> list[ExerciseResult]:
    """Merge the rows of runs with different seeds: pass only when every run passed."""
    order: list[str] = []
    by_ex: dict[str, list[ExerciseResult]] = {}
    notes: list[ExerciseResult] = []
    for rows in runs:
        for row in rows:
            if row.exercise == NOTEBOOK_ROW:
                if all(row.feedback != n.feedback for n in notes):
                    notes.append(row)
                continue
            if row.exercise not in by_ex:
                order.append(row.exercise)
                by_ex[row.exercise] = []
            by_ex[row.exercise].append(row)
    merged: list[ExerciseResult] = []
    multi = len(runs) > 1
    for ex in order:
        rows = by_ex[ex]
        bad = [r for r in rows if r.status is not Status.PASSED]
        if not bad:
            merged.append(rows[0])
            continue
        first = bad[0]
        feedback = first.feedback
        if multi and first.seed is not None:
            feedback = f"with seed {first.seed}: {feedback}"
            good = [r.seed for r in rows if r.status is Status.PASSED]
            if good:
                feedback += (
                    f"\n(it passed with seed {good[0]}: is a number pasted in instead of "
                    "computed from the parameters?)"
                )
        merged.append(ExerciseResult(ex, first.status, feedback, first.cell, first.seed))
    return merged + notes
