"""Run notebooks with papermill, safely, and grade them: the engine of ``perflab check``.

Each run happens in a fresh kernel of *this* Python (a kernelspec named ``python3`` is
written into the scratch folder and put first on ``JUPYTER_PATH``, so a stray user
kernelspec can't swap the interpreter), inside a scratch folder that is the kernel's
working directory, with a per-cell timeout, a cap on the whole run (when it is hit,
every process of the run is killed: see ``perflab.grading.sandbox``) and a cap on kept
output. The learner's file is only read. Every notebook is run once per seed; a run in which no
exercise passed ends the seeds early, since more runs can't change the verdict.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.grading import sandbox
from perflab.grading._worker import RUN_KEY
from perflab.grading.grade import RunInfo, combine_runs, grade_run
from perflab.grading.notebook import (
    Manifest,
    cell_tag,
    load_manifest,
    read_notebook,
    write_notebook,
)
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, NotebookReport, Status

__all__ = ["DEFAULT_SEEDS", "CheckOptions", "check_notebook", "check_paths", "collect"]

DEFAULT_SEEDS = (1234, 98765)


@dataclass(frozen=True)
class CheckOptions:
    """How notebooks are run.

    Attributes:
        seeds: the seeds injected as the ``seed`` parameter, one run each.
        timeout_s: per-cell timeout; the cell is interrupted when it is exceeded.
        run_cap_s: cap on one whole run; None means start-up plus a timeout per code cell.
        output_cap_bytes: output kept per run beyond which output is dropped.
        kernel_name: the kernelspec name, forced onto every notebook.
        start_timeout_s: how long a kernel may take to start.
        interrupt_grace_s: how long a timed-out cell has to honour the interrupt.
        isolation: how a run's processes are contained and ended: ``"auto"`` (the
            strongest available) or one of ``perflab.grading.sandbox.MODES``.
    """

    seeds: tuple[int, ...] = DEFAULT_SEEDS
    timeout_s: float = 60.0
    run_cap_s: float | None = None
    output_cap_bytes: int = 5_000_000
    kernel_name: str = "python3"
    start_timeout_s: float = 60.0
    interrupt_grace_s: float = 5.0
    isolation: str = "auto"

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


def _prepare(nb: Any) -> Any:
    """A copy to run: our run marks cleared, the ``parameters`` tag on the role cell."""
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop(RUN_KEY, None)
    has_role = any((t := cell_tag(c)) is not None and t.role == "parameters" for c in nb.cells)
    for cell in nb.cells:
        cell.metadata.pop(RUN_KEY, None)
        if not has_role:
            continue
        tags = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
        tag = cell_tag(cell)
        if tag is not None and tag.role == "parameters" and cell.cell_type == "code":
            tags.append("parameters")
        cell.metadata["tags"] = tags
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """The grader's environment minus API keys and database URLs.

    Exercises run offline, and learner code runs in the kernel: a submission that printed
    or raised with ``os.environ["OPENAI_API_KEY"]`` would carry the teacher's key into the
    report. So the kernel never gets one.
    """
    from perflab.config import SECRET_FIELDS, env_name

    secret = {env_name(field) for field in SECRET_FIELDS}
    return {name: value for name, value in environ.items() if name.upper() not in secret}


def _run_once(
    nb: Any, source: Path, manifest: Manifest, seed: int | None, options: CheckOptions
) -> list[ExerciseResult]:
    parameters = dict(manifest.parameters)
    if seed is not None:
        parameters["seed"] = seed
    key = secrets.token_hex(32)
    isolation = sandbox.choose(options.isolation)
    scratch = Path(tempfile.mkdtemp(prefix="perflab-check-"))
    run_dir, cwd, data = scratch / "run", scratch / "cwd", scratch / "data"
    kernels = scratch / "jupyter" / "kernels" / options.kernel_name
    for folder in (run_dir, cwd, data, kernels):
        folder.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (perflab check)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    write_notebook(_prepare(nb), run_dir / "input.ipynb")
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    cap = options.run_cap_s or min(
        options.start_timeout_s + 30 + options.timeout_s * (code_cells + 1), 3600.0
    )
    spec = {
        "input": str(run_dir / "input.ipynb"),
        "output": str(run_dir / "output.ipynb"),
        "parameters": parameters,
        "kernel_name": options.kernel_name,
        "cwd": str(cwd),
        "timeout": max(1, round(options.timeout_s)),
        "output_cap": options.output_cap_bytes,
        "start_timeout": round(options.start_timeout_s),
        "interrupt_grace": options.interrupt_grace_s,
    }
    (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = dict(
        _without_secrets(os.environ),
        PERFLAB_CHECK_KEY=key,
        PERFLAB_CHECK_PARAMS=",".join(parameters),
        PERFLAB_DATA_DIR=str(data),
        MPLBACKEND="Agg",
        JUPYTER_PATH=os.pathsep.join(
            [str(scratch / "jupyter"), os.environ.get("JUPYTER_PATH", "")]
        ).rstrip(os.pathsep),
    )
    before = source.read_bytes()
    info = RunInfo(seed=seed, parameters=parameters, key=key.encode(), timeout_s=options.timeout_s)
    try:
        with open(run_dir / "worker.log", "wb") as log:
            # The only process id the runner ever signals is this child's own: never one
            # read from a file the kernel could write (see perflab.grading.sandbox).
            proc = sandbox.start(
                [sys.executable, "-m", "perflab.grading._worker", str(run_dir / "spec.json")],
                isolation,
                cwd=run_dir,
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
            try:
                proc.wait(timeout=cap)
            except subprocess.TimeoutExpired:
                info.capped_after_s = round(cap, 1)
            finally:
                sandbox.stop(proc, isolation)
        try:
            info.outcome = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info.outcome = {"outcome": "ran" if info.capped_after_s else "crashed"}
        if info.outcome.get("outcome") in ("no-kernel", "no-papermill", "crashed"):
            tail = (run_dir / "worker.log").read_bytes()[-1500:].decode(errors="replace")
            message = info.outcome.get("message") or tail.strip() or "the worker process failed"
            return [
                ExerciseResult(
                    NOTEBOOK_ROW,
                    Status.UNGRADED,
                    f"could not run the notebook in a {options.kernel_name} kernel: {message}",
                    None,
                    seed,
                )
            ]
        info.files_written = sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*") if p.is_file())
        if source.read_bytes() != before:
            info.file_modified = True
            source.write_bytes(before)
        try:
            executed = read_notebook(run_dir / "output.ipynb")
        except Exception:  # noqa: BLE001 - killed mid-write, or never written: grade what we sent
            executed = _prepare(nb)
        rows = grade_run(executed, manifest, info)
        if isolation.not_enforced:
            note = f"not enforced ({isolation.mode}): {isolation.not_enforced}"
            rows.append(ExerciseResult(NOTEBOOK_ROW, Status.WARNING, note, None, None))
        return rows
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


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
    import nbformat

    options = options or CheckOptions()
    path = Path(path)
    learner = learner or path.stem
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
    manifest = load_manifest(nb)
    seeds: tuple[int | None, ...] = options.seeds if "seed" in manifest.parameters else (None,)
    if not manifest.exercises and not any(
        (t := cell_tag(c)) is not None and t.role == "check" for c in nb.cells
    ):
        rows = grade_run(nb, manifest, RunInfo(None, {}, b"", options.timeout_s))
        return NotebookReport(str(path), learner, tuple(rows), (), time.monotonic() - started)
    runs: list[list[ExerciseResult]] = []
    for seed in seeds:
        try:
            rows = _run_once(nb, path, manifest, seed, options)
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
        if not any(r.status is Status.PASSED for r in rows):
            break  # nothing passed: other seeds can't turn this into a pass
    used = tuple(s for s in seeds[: len(runs)] if s is not None)
    return NotebookReport(
        str(path), learner, tuple(combine_runs(runs)), used, time.monotonic() - started
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


def check_paths(
    paths: Iterable[str | Path],
    options: CheckOptions | None = None,
    workers: int = 1,
    progress: bool = False,
    on_done: Callable[[NotebookReport], None] | None = None,
) -> list[NotebookReport]:
    """Check many notebooks, up to ``workers`` at a time; reports come back in input order.

    One bad submission never stops the batch: it gets an ``ungraded`` row.
    """
    items = collect(paths)
    if not items:
        return []
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

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, range(len(items))))
    if bar is not None:
        bar.close()
    return [r for r in reports if r is not None]
