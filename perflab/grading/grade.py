"""Grade an executed notebook: every exercise, whatever happened during the run.

The grader reads only what the run left behind: the cells' outputs (errors and check
records), the run marks the worker wrote into the metadata (which cells started and
finished, timeouts, where the kernel died) and what the runner saw from outside (files
written, the whole-run cap). It finds cells by their ``perflab`` metadata, never by
position, and never raises: anything odd becomes a verdict the learner can act on.

With a reference (the usual case), a check record is only the learner's *answer*: the
verdict comes from :func:`perflab.grading.compare.judge`, here, against the expected
value the reference solution's run recorded for the same check. Cells are named the way
a learner finds them in JupyterLab: the exercise, the heading above, and the code
cell's number (which is its ``In [N]`` after Restart and Run All).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perflab.grading._worker import RUN_KEY
from perflab.grading.checks import MIME_TYPE, source_digest
from perflab.grading.compare import judge
from perflab.grading.notebook import Manifest, cell_tag, parse_parameters
from perflab.grading.reference import Reference
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, Status

__all__ = ["RunInfo", "combine_runs", "grade_run"]


@dataclass
class RunInfo:
    """What the runner knows about one execution of a notebook.

    Attributes:
        seed: the seed injected (None when the notebook has no ``seed`` parameter).
        parameters: every value injected into the parameters cell.
        timeout_s: the per-cell timeout.
        outcome: the worker's result (``{"outcome": "ran"}`` and maybe an error).
        capped_after_s: set when the whole-run cap killed the run.
        files_written: files the notebook left in its scratch folders.
        file_modified: the learner's file changed on disk during the run.
        reference: the reference run's records; None: the notebook's own checks decide.
        not_enforced: sandbox limits that could not be put in place, in words.
    """

    seed: int | None
    parameters: dict[str, Any]
    timeout_s: float
    outcome: dict[str, Any] = field(default_factory=dict)
    capped_after_s: float | None = None
    files_written: list[str] = field(default_factory=list)
    file_modified: bool = False
    reference: Reference | None = None
    not_enforced: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Cell:
    number: int  # 1-based among all the learner's cells (ExerciseResult.cell)
    name: str  # how the learner finds it
    cell: Any


def _heading(cell: Any) -> str:
    for line in str(cell.get("source", "")).splitlines():
        if line.lstrip().startswith("#"):
            text = line.lstrip("# ").strip()
            return text if len(text) <= 60 else text[:57] + "..."
    return ""


def _numbered(nb: Any) -> list[_Cell]:
    """The learner's cells (papermill's injected cell left out), each with its name."""
    out: list[_Cell] = []
    number = code = 0
    heading = ""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        number += 1
        if cell.get("cell_type") == "markdown":
            heading = _heading(cell) or heading
            continue
        if cell.get("cell_type") != "code":
            continue
        code += 1
        where = f"code cell {code}" + (f', under "{heading}"' if heading else "")
        tag = cell_tag(cell)
        if tag is None:
            name = where
        elif tag.role == "parameters":
            name = f"the parameters cell ({where})"
        else:
            role = "TODO cell" if tag.role == "todo" else "check cell"
            name = f"the {role} of {tag.exercise} ({where})" if tag.exercise else where
        out.append(_Cell(number, name, cell))
    return out


def _marks(cell: Any) -> dict[str, Any]:
    marks = cell.get("metadata", {}).get(RUN_KEY, {})
    return marks if isinstance(marks, dict) else {}


def _error(cell: Any) -> tuple[str, str] | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return str(out.get("ename", "")), str(out.get("evalue", ""))
    return None


def _stop_reason(cells: list[_Cell], info: RunInfo) -> str:
    for c in cells:
        marks = _marks(c.cell)
        if marks.get("started") and not marks.get("done"):
            if info.capped_after_s is not None:
                return f"the whole run was stopped after {info.capped_after_s:g} s, at {c.name}"
            if marks.get("timed_out"):
                return f"{c.name} ignored the interrupt after its timeout"
            return f"the kernel died at {c.name}"
    if info.capped_after_s is not None:
        return f"the whole run was stopped after {info.capped_after_s:g} s"
    message = info.outcome.get("message")
    return f"the run stopped early: {message}" if message else "the run stopped early"


def _row(status: Status, text: str, c: _Cell, info: RunInfo) -> ExerciseResult:
    return ExerciseResult("", status, text, c.number, info.seed)


def _cell_problem(c: _Cell, role: str, info: RunInfo, stop: str) -> ExerciseResult | None:
    marks = _marks(c.cell)
    if not marks.get("started"):
        return _row(Status.NOT_RUN, f"not run ({stop})", c, info)
    if marks.get("timed_out"):
        return _row(
            Status.TIMEOUT,
            f"{c.name} ran longer than the {marks['timed_out']} s cell timeout and was "
            "stopped; look for a loop that never ends, or make the work smaller",
            c,
            info,
        )
    if not marks.get("done"):
        if info.capped_after_s is not None:
            return _row(
                Status.TIMEOUT,
                f"{c.name} was still running when the whole run hit its "
                f"{info.capped_after_s:g} s cap",
                c,
                info,
            )
        return _row(
            Status.ERROR,
            f"the kernel died while running {c.name} (os._exit, a crash, or out of "
            "memory?); cells after it did not run",
            c,
            info,
        )
    error = _error(c.cell)
    if error is None:
        return None
    ename, evalue = error
    if ename == "SystemExit":
        return _row(
            Status.ERROR,
            f"{c.name} called sys.exit({evalue}); a notebook can't stop its checks that way, "
            "and the rest of that cell never ran. Remove the call",
            c,
            info,
        )
    if ename == "NotImplementedError" and role == "todo":
        return _row(
            Status.FAILED,
            f"not done yet: {c.name} still raises NotImplementedError; replace the TODO "
            "with your code",
            c,
            info,
        )
    what = f"{c.name} raised {ename}" + (f": {evalue}" if evalue else "")
    return _row(Status.ERROR, what[:500], c, info)


def _records(cell: Any) -> list[dict[str, Any]]:
    return [
        r
        for o in cell.get("outputs", [])
        if o.get("output_type") == "display_data"
        and isinstance(r := o.get("data", {}).get(MIME_TYPE), dict)
    ]


def _verdicts(
    ex: str, c: _Cell, expected: list[dict[str, Any]] | None
) -> tuple[list[str], list[str]] | str:
    """(passed whats, failure messages) for one check cell; or why it can't be graded."""
    mine = _records(c.cell)
    if not mine:
        if _marks(c.cell).get("records_capped"):
            return (
                f"{c.name}: its check results were dropped, since the run's check results "
                "passed the output cap (does a loop call a check many times?)"
            )
        return (
            f"{c.name} ran but no check reported a result: were the perflab check "
            "functions redefined or removed?"
        )
    if expected is None:  # no reference: the notebook's own checks decide
        passed = [str(r.get("what", "")) for r in mine if r.get("status") == "passed"]
        failed = [str(r.get("message", "")) for r in mine if r.get("status") == "failed"]
        return passed, failed
    answers: dict[tuple[str, int], dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for r in mine:
        what = str(r.get("what", ""))
        seen[what] = seen.get(what, 0) + 1
        answers.setdefault((what, seen[what]), r)
    passed, failed = [], []
    seen = {}
    for want in expected:
        what = str(want.get("what", ""))
        seen[what] = seen.get(what, 0) + 1
        kind = want.get("kind")
        if kind not in ("close", "equal", "true"):
            continue  # predictions inform, they don't grade
        got = answers.get((what, seen[what]))
        hint = str(want.get("hint", ""))
        if got is None or got.get("exercise") != want.get("exercise"):
            ok, detail = False, "no answer was recorded for this check"
        elif got.get("refused"):
            ok, detail = False, f"refused {got['refused']}"
        elif want.get("reference") is False:  # expected depends on the learner's choices
            ok = got.get("status") == "passed" and got.get("reference") is False
            detail = "passed" if ok else str(got.get("message", "failed")).split(": ", 1)[-1]
        else:
            ok, detail = judge(
                str(kind),
                got.get("answer"),
                want.get("expected"),
                float(want.get("rel_tol") or 0.0),
                float(want.get("abs_tol") or 0.0),
            )
        if ok:
            passed.append(what)
        else:
            failed.append(f"\u2718 [{ex}] {what}: {detail}" + (f"\n  hint: {hint}" if hint else ""))
    return passed, failed


def _grade_exercise(
    ex: str, cells: list[_Cell], manifest: Manifest, info: RunInfo, stop: str
) -> ExerciseResult:
    mine = [
        (c, t)
        for c in cells
        if (t := cell_tag(c.cell)) is not None and t.exercise == ex and t.role in ("todo", "check")
    ]
    checks = [c for c, t in mine if t.role == "check"]

    def verdict(status: Status, text: str, c: _Cell | None = None) -> ExerciseResult:
        return ExerciseResult(ex, status, text, c.number if c else None, info.seed)

    if not checks:
        return verdict(
            Status.MISSING,
            f"no check cell for exercise {ex}: it was deleted or lost its metadata; copy it "
            "back from a fresh copy of the exercise notebook",
        )
    expected = manifest.checks.get(ex)
    if expected:
        for c in checks:
            if _original_digest(c.cell) not in expected:
                return verdict(
                    Status.TAMPERED,
                    f"{c.name} was edited; copy the original back from a fresh copy of the "
                    "exercise notebook",
                    c,
                )
    for c, t in mine:
        problem = _cell_problem(c, t.role, info, stop)
        if problem is not None:
            return verdict(problem.status, problem.feedback, c)
    passed: list[str] = []
    failed: list[str] = []
    reference = info.reference
    for c in checks:
        wanted = None if reference is None else reference.by_cell.get(_original_digest(c.cell))
        if reference is not None and wanted is None:
            return verdict(Status.TAMPERED, f"{c.name} is no check cell of the reference", c)
        found = _verdicts(ex, c, wanted)
        if isinstance(found, str):
            return verdict(Status.TAMPERED if "redefined" in found else Status.FAILED, found, c)
        passed += found[0]
        failed += found[1]
    if failed:
        return verdict(Status.FAILED, "\n".join(failed), checks[0])
    if not passed:
        return verdict(
            Status.MISSING, f"the check cells of {ex} only gave information, no check", checks[0]
        )
    note = (
        f" (the check cell appears {len(checks)} times: delete the copies)"
        if len(checks) > 1
        else ""
    )
    return verdict(
        Status.PASSED,
        f"{len(passed)} check{'s' if len(passed) != 1 else ''} passed: " + "; ".join(passed) + note,
        checks[0],
    )


def _original_digest(cell: Any) -> str:
    """The digest of the check cell as the learner has it (before its graded form)."""
    original = cell.get("metadata", {}).get(RUN_KEY, {}).get("original_digest")
    return str(original) if original else source_digest(cell.get("source", ""))


def _other_cells(cells: list[_Cell], info: RunInfo) -> list[ExerciseResult]:
    """Rows for cells outside the exercises that raised, timed out or exited.

    A notebook that does not run top to bottom is not a pass, even when every
    exercise's checks passed: each exercise keeps its own verdict, and this row fails
    the notebook.
    """
    rows: list[ExerciseResult] = []
    for c in cells:
        tag = cell_tag(c.cell)
        if tag is not None and tag.role in ("todo", "check"):
            continue
        problem = _cell_problem(c, "other", info, "")
        if problem is None or problem.status is Status.NOT_RUN:
            continue
        text = problem.feedback + (
            "; a notebook must run from top to bottom without errors to pass"
            if problem.status is Status.ERROR
            else ""
        )
        rows.append(ExerciseResult(NOTEBOOK_ROW, problem.status, text, c.number, info.seed))
    return rows


def _notebook_rows(
    cells: list[_Cell], manifest: Manifest, info: RunInfo, exercises: list[str]
) -> list[ExerciseResult]:
    rows = _other_cells(cells, info)

    def note(status: Status, text: str, cell: int | None = None) -> None:
        rows.append(ExerciseResult(NOTEBOOK_ROW, status, text, cell, info.seed))

    if info.file_modified:
        note(
            Status.TAMPERED,
            "the notebook file itself was changed while it was being checked "
            "(by code in the notebook?); it was put back as it was",
        )
    params = [c for c in cells if (t := cell_tag(c.cell)) is not None and t.role == "parameters"]
    if not params and manifest.parameters:
        note(
            Status.WARNING,
            "no parameters cell (metadata role 'parameters'): the checker "
            "injected its values at the top of the notebook",
        )
    elif len(params) > 1:
        note(
            Status.WARNING,
            f"{len(params)} parameters cells ({', '.join(c.name for c in params)}): keep one",
            params[1].number,
        )
    elif params:
        found = parse_parameters(params[0].cell.source)
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
                params[0].number,
            )
    capped = [c for c in cells if _marks(c.cell).get("output_capped")]
    if capped:
        note(
            Status.WARNING,
            f"{capped[0].name} printed more output than the checker keeps; "
            "the rest of the run's output was dropped (print less)",
            capped[0].number,
        )
    if info.files_written:
        shown = ", ".join(info.files_written[:8]) + (" ..." if len(info.files_written) > 8 else "")
        note(
            Status.WARNING,
            f"the notebook wrote files: {shown} (into the run's scratch folder, since "
            "deleted; nothing outside it was writable)",
        )
    known = set(exercises)
    strays = sorted(
        {
            t.exercise
            for c in cells
            if (t := cell_tag(c.cell)) is not None and t.exercise and t.exercise not in known
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
        info: what the runner knows about the run (and the reference's records).

    Returns:
        One row per exercise, in the manifest's order, then notebook rows.
    """
    try:
        cells = _numbered(nb)
        exercises = list(manifest.exercises)
        for c in cells:
            tag = cell_tag(c.cell)
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
        stop = _stop_reason(cells, info)
        rows = [_grade_exercise(ex, cells, manifest, info, stop) for ex in exercises]
        return rows + _notebook_rows(cells, manifest, info, exercises)
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
