"""Run notebooks with papermill, safely, and grade them: the engine of ``perflab check``.

For each seed, two runs, each a fresh kernel of *this* Python in a sandbox of its own
(``perflab.grading.sandbox``): the reference solution (``solutions/``, found by the
notebook's ``metadata.perflab.id``, cached per seed) and the learner's notebook, whose
check cells run in their graded form (no expected value in them: see
``perflab.grading.reference``). The grader then compares the learner's answers with
the reference's expected values in this process (``perflab.grading.grade``).

A run has a scratch folder, a per-cell timeout, a cap on the whole run (when it is hit,
every process of the run is killed), a cap on kept output, an environment by allowlist
and limits on memory, CPU time and processes. The learner's file is only read. The
seeds are fresh random numbers on every ``perflab check`` unless the teacher gives
them. A run in which no exercise passed, or a cell timed out, ends the seeds early.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from perflab.grading import sandbox
from perflab.grading.checks import MIME_TYPE, source_digest
from perflab.grading.environment import scrub, secret_values
from perflab.grading.execute import execute
from perflab.grading.grade import RunInfo, combine_runs, grade_run
from perflab.grading.notebook import (
    Manifest,
    cell_tag,
    load_manifest,
    manifest_from_notebook,
    read_notebook,
)
from perflab.grading.reference import SHARED, Reference, ReferenceCache
from perflab.grading.results import (
    NOTEBOOK_ROW,
    ExerciseResult,
    NotebookReport,
    Prediction,
    Status,
    prediction_from_record,
)

__all__ = [
    "DEFAULT_SEEDS",
    "CheckOptions",
    "check_notebook",
    "check_paths",
    "collect",
    "fresh_seeds",
    "reference_jobs",
]


#: Fresh seeds per grading run unless the teacher asks for more (``perflab check --seeds N``)
#: or gives them (``--seed``). One is enough: the seed is drawn after the learner
#: submitted, from 2**31 values, so no table keyed on it can exist, and an answer pasted
#: from another run is compared with this run's own reference values. A second fresh
#: seed only squares the chance that a constant happens to fall within a check's
#: tolerance of a random draw, and it doubles the room's grading time (docs/room-at-scale.md).
DEFAULT_SEEDS = 1


def fresh_seeds(count: int = DEFAULT_SEEDS) -> tuple[int, ...]:
    """``count`` distinct random seeds (0 to 2**31 - 1): a table of answers can't know them."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    seeds: set[int] = set()
    while len(seeds) < count:
        seeds.add(secrets.randbelow(2**31))
    return tuple(sorted(seeds))


@dataclass(frozen=True)
class CheckOptions:
    """How notebooks are run.

    Attributes:
        seeds: the seeds injected as the ``seed`` parameter, one run each; unless given,
            ``DEFAULT_SEEDS`` (one) fresh random seed for each ``CheckOptions``.
        timeout_s: per-cell timeout; the cell is interrupted when it is exceeded.
        run_cap_s: cap on one whole run; None means start-up plus a timeout per code cell.
        output_cap_bytes: output kept per run beyond which output is dropped (check
            records have a budget of the same size of their own).
        kernel_name: the kernelspec name, forced onto every notebook.
        start_timeout_s: how long a kernel may take to start.
        interrupt_grace_s: how long a timed-out cell has to honour the interrupt.
        isolation: how a run's processes are contained and ended: ``"auto"`` (the
            strongest available) or one of ``perflab.grading.sandbox.MODES``.
        expect: the notebook id every notebook checked must have (``--expect``).
        reference_dirs: folders of reference solutions; None means the installed ones.
        memory_mb: the limit on a run's address space (RLIMIT_AS), per process.
        max_processes: the limit on a run's processes and threads (RLIMIT_NPROC; only
            enforced when the grader runs as root, with a uid of the run's own).
        cache: reference runs already made (default: one cache for the whole process).
    """

    seeds: tuple[int, ...] = field(default_factory=fresh_seeds)
    timeout_s: float = 60.0
    run_cap_s: float | None = None
    output_cap_bytes: int = 5_000_000
    kernel_name: str = "python3"
    start_timeout_s: float = 60.0
    interrupt_grace_s: float = 5.0
    isolation: str = "auto"
    expect: str | None = None
    reference_dirs: tuple[Path, ...] | None = None
    memory_mb: int = 4096
    max_processes: int = 256
    cache: ReferenceCache = field(default_factory=lambda: SHARED, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.isolation not in ("auto", *sandbox.MODES):
            raise ValueError(
                f"isolation must be 'auto' or one of {', '.join(sandbox.MODES)}; "
                f"got {self.isolation!r}"
            )
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")


def _ungraded(path: Path, learner: str, message: str) -> NotebookReport:
    return NotebookReport(
        str(path), learner, (ExerciseResult(NOTEBOOK_ROW, Status.UNGRADED, message),)
    )


def _reference_records(executed: Any) -> dict[str, list[dict[str, Any]]]:
    """Check cell digest -> the records its checks made in the reference run."""
    out: dict[str, list[dict[str, Any]]] = {}
    for cell in executed.cells:
        tag = cell_tag(cell)
        if tag is None or tag.role != "check" or cell.cell_type != "code":
            continue
        records = [
            o["data"][MIME_TYPE]
            for o in cell.get("outputs", [])
            if o.get("output_type") == "display_data" and MIME_TYPE in o.get("data", {})
        ]
        out.setdefault(source_digest(cell.source), records)
    return out


def _run_reference(path: Path, parameters: dict[str, Any], options: CheckOptions) -> Reference:
    """Run the reference solution with ``parameters``; its checks' records by cell."""
    nb = read_notebook(path)
    run = execute(nb, parameters, parameters.get("seed"), options, "reference")
    if run.problem:
        return Reference(problem=run.problem[0].feedback)
    rows = grade_run(run.executed, manifest_from_notebook(nb, "reference"), run.info)
    bad = [r for r in rows if r.exercise != NOTEBOOK_ROW and r.status is not Status.PASSED]
    if bad:
        return Reference(
            problem=f"the reference solution {path.name} did not pass with these parameters "
            f"({bad[0].exercise}: {bad[0].feedback[:300]})"
        )
    return Reference(_reference_records(run.executed))


def _run_once(
    nb: Any,
    manifest: Manifest,
    seed: int | None,
    options: CheckOptions,
    ref_path: Path | None,
    predictions: list[Prediction] | None = None,
) -> list[ExerciseResult]:
    parameters = dict(manifest.parameters)
    if seed is not None:
        parameters["seed"] = seed
    reference = None
    if ref_path is not None:
        reference = options.cache.get(
            ref_path, parameters, lambda: _run_reference(ref_path, parameters, options)
        )
        if reference.problem:
            return [ExerciseResult(NOTEBOOK_ROW, Status.UNGRADED, reference.problem, None, seed)]
    run = execute(nb, parameters, seed, options, "learner", graded=reference is not None)
    if run.problem:
        return run.problem
    run.info.reference = reference
    rows = grade_run(run.executed, manifest, run.info)
    if predictions is not None and not predictions:
        predictions += _predictions(run.executed)
    rows += [ExerciseResult(NOTEBOOK_ROW, Status.WARNING, n) for n in run.info.not_enforced]
    return rows


def _predictions(executed: Any) -> list[Prediction]:
    """The learner's predictions beside their measurements, from the check cells' records."""
    found = []
    for cell in executed.cells:
        tag = cell_tag(cell)
        if tag is None or tag.role != "check":
            continue
        for out in cell.get("outputs", []):
            record = out.get("data", {}).get(MIME_TYPE) if isinstance(out, dict) else None
            if isinstance(record, dict) and (p := prediction_from_record(record)) is not None:
                found.append(p)
    return found


def _skipped_note(seeds: tuple[int | None, ...], done: int, why: str) -> ExerciseResult:
    left = [str(s) for s in seeds[done:] if s is not None]
    return ExerciseResult(
        NOTEBOOK_ROW,
        Status.WARNING,
        f"seed{'s' if len(left) != 1 else ''} {', '.join(left)} skipped: {why}",
    )


def check_notebook(
    path: str | Path, options: CheckOptions | None = None, learner: str = ""
) -> NotebookReport:
    """Run and grade one notebook with every seed; never raises.

    Args:
        path: the learner's notebook (read, never written).
        options: how to run it; defaults to ``CheckOptions()``.
        learner: the learner's name for batch reports.

    Returns:
        The report; an ``ungraded`` row when the notebook could not be run at all.
    """
    options = options or CheckOptions()
    report = _check(Path(path), options, learner or Path(path).stem)
    hidden = secret_values(os.environ)
    if not hidden:
        return report
    rows = tuple(replace(r, feedback=scrub(r.feedback, hidden)) for r in report.results)
    return replace(report, results=rows, notes=tuple(scrub(n, hidden) for n in report.notes))


def _check(path: Path, options: CheckOptions, learner: str) -> NotebookReport:
    import nbformat

    from perflab.grading.identity import identify

    started = time.monotonic()
    if importlib.util.find_spec("ipykernel") is None:
        return _ungraded(
            path, learner, f"no kernel: ipykernel is not installed for {sys.executable}"
        )
    try:
        nb = read_notebook(path)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001
        return _ungraded(path, learner, f"not a notebook: {type(exc).__name__}: {exc}"[:400])
    own = load_manifest(nb, dirs=())
    if not own.exercises and not any(
        (t := cell_tag(c)) is not None and t.role == "check" for c in nb.cells
    ):  # no exercises at all (a lesson notebook?): nothing to run
        rows = grade_run(nb, own, RunInfo(None, {}, options.timeout_s))
        return NotebookReport(str(path), learner, tuple(rows), (), time.monotonic() - started)
    before = path.read_bytes()
    found = identify(nb, path, options.expect, options.reference_dirs)
    if found.refusal is not None:
        return NotebookReport(str(path), learner, (found.refusal,), (), time.monotonic() - started)
    manifest = found.manifest
    seeds: tuple[int | None, ...] = options.seeds if "seed" in manifest.parameters else (None,)
    runs: list[list[ExerciseResult]] = []
    predictions: list[Prediction] = []
    skipped: ExerciseResult | None = None
    for seed in seeds:
        try:
            rows = _run_once(nb, manifest, seed, options, found.reference, predictions)
        except Exception as exc:  # noqa: BLE001 - a grader bug: say so, never pass
            rows = [
                ExerciseResult(
                    NOTEBOOK_ROW,
                    Status.UNGRADED,
                    f"the grader failed: {type(exc).__name__}: {exc}",
                    None,
                    seed,
                )
            ]
        runs.append(rows)
        if len(runs) == len(seeds):
            break
        if any(r.status is Status.TIMEOUT for r in rows):
            skipped = _skipped_note(seeds, len(runs), "a cell timed out, and would again")
            break
        if not any(r.status is Status.PASSED for r in rows):
            break  # nothing passed: other seeds can't turn this into a pass
    used = tuple(s for s in seeds[: len(runs)] if s is not None)
    merged = combine_runs(runs) + ([skipped] if skipped else [])
    if path.read_bytes() != before:  # the sandbox should make this impossible
        path.write_bytes(before)
        merged.append(
            ExerciseResult(
                NOTEBOOK_ROW,
                Status.TAMPERED,
                "the notebook file itself was changed while it was being checked "
                "(by code in the notebook?); it was put back as it was",
            )
        )
    merged += found.notes
    return NotebookReport(
        str(path),
        learner,
        tuple(merged),
        used,
        time.monotonic() - started,
        predictions=tuple(predictions),
    )


def collect(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Expand the command line's paths into (notebook, learner) pairs.

    A file is one notebook (its learner is the file's stem). A folder is a folder of
    submissions: each notebook directly in it is one learner's, and each sub-folder is one
    learner's, holding one or more notebooks. Checkpoints are skipped.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            found.append((path, path.stem))
            continue
        for entry in sorted(path.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                for nb in sorted(entry.rglob("*.ipynb")):
                    if ".ipynb_checkpoints" not in nb.parts:
                        found.append((nb, entry.name))
            elif entry.suffix == ".ipynb":
                found.append((entry, entry.stem))
    return found


def reference_jobs(
    items: Iterable[tuple[Path, str]], options: CheckOptions
) -> list[Callable[[], None]]:
    """One job per (reference solution, parameters) the room will need, in room order.

    Each job makes that reference run and puts it in ``options.cache``, where every
    learner's run with the same exercise and seed finds it. Run them first, on the same
    workers: the room's expected values are then ready before its learners' runs ask,
    and a reference that fails is known (and retried) before any learner waits on it.
    A notebook that can't be read or identified adds nothing (its own grading says why).
    """
    from perflab.grading.identity import identify

    wanted: dict[str, tuple[Path, dict[str, Any]]] = {}
    for nb_path, _ in items:
        try:
            nb = read_notebook(nb_path)
            found = identify(nb, nb_path, options.expect, options.reference_dirs)
        except Exception:  # noqa: BLE001, S112 - graded (and explained) with the notebook
            continue
        if found.refusal is not None or found.reference is None:
            continue
        params = found.manifest.parameters
        for seed in options.seeds if "seed" in params else (None,):
            parameters = dict(params) if seed is None else {**params, "seed": seed}
            text = json.dumps(parameters, sort_keys=True, default=repr)
            wanted.setdefault(
                f"{Path(found.reference).resolve()}\0{text}", (found.reference, parameters)
            )

    def job(path: Path, parameters: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            try:
                options.cache.get(
                    path, parameters, lambda: _run_reference(path, parameters, options)
                )
            except Exception:  # noqa: BLE001, S110 - the learner run retries and reports it
                pass

        return run

    return [job(path, parameters) for path, parameters in wanted.values()]


def check_paths(
    paths: Iterable[str | Path],
    options: CheckOptions | None = None,
    workers: int = 1,
    progress: bool = False,
    on_done: Callable[[NotebookReport], None] | None = None,
    references_first: bool = True,
) -> list[NotebookReport]:
    """Check many notebooks, up to ``workers`` at a time; reports come back in input order.

    With ``references_first`` (the default) the reference runs the room needs, one per
    exercise and seed, are scheduled before any learner's (:func:`reference_jobs`).
    One bad submission never stops the batch: it gets an ``ungraded`` row.
    """
    items = collect(paths)
    if not items:
        return []
    options = options or CheckOptions()
    reports: list[NotebookReport | None] = [None] * len(items)
    bar: Any = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="perflab check", unit="notebook", file=sys.stderr)

    def one(i: int) -> None:
        nb_path, learner = items[i]
        try:
            report = check_notebook(nb_path, options, learner)
        except Exception as exc:  # noqa: BLE001  # pragma: no cover
            report = _ungraded(nb_path, learner, f"the grader failed: {exc!r}")
        reports[i] = report
        if on_done is not None:
            on_done(report)
        if bar is not None:
            bar.update(1)

    first = reference_jobs(items, options) if references_first else []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for job in first:  # the executor takes jobs in order: these start first
            pool.submit(job)
        list(pool.map(one, range(len(items))))
    if bar is not None:
        bar.close()
    return [r for r in reports if r is not None]
