"""Benchmark grading a room: notebooks per minute, and where each notebook's CPU goes.

    .venv/bin/python benchmarks/grading.py [--learners 3] [--workers 2]

Builds a synthetic room of N learners, each with a copy of every exercise: solved (from
solutions/), unsolved (from exercises/) or broken (a solution with one extra cell that
raises), in a seeded mix. Grades it twice in one run, with ``check_paths(..., workers=W)``
(the engine of ``perflab check ROOM --workers W``), and prints one table with a column for
each:

* **before**: each run's worker started from scratch (``python -m
  perflab.grading._worker`` under ``unshare``), two fresh seeds per notebook, reference
  solutions run when the first learner needs them;
* **after**: workers forked from the warm fork server (``perflab.grading.kernel_pool``,
  each still process 1 of a new PID and mount namespace, each kernel a fresh process),
  one fresh seed (``runner.DEFAULT_SEEDS``), the room's reference runs scheduled first.

The machine is shared, so wall times are inflated by other load: the table reports CPU
seconds (user + system of every process the grading started, reaped) per notebook, split
by process: the grading process itself; the workers (Python start, imports, papermill);
the kernels (their start, about half a CPU-second each, and the notebook's cells, with
any process a cell started); and, of all that, the reference runs' share. The split
comes from a ``sitecustomize`` put on ``PYTHONPATH`` that logs each process's CPU when it
exits: a worker logs its own and its reaped kernel's (a kernel is killed at the end of
its run, so it never logs itself). The room time for 30 learners x every
exercise (16) is computed, not measured: (30 x 16 x the learner CPU per notebook + 16 x
seeds x the CPU of one reference run) / the machine's cores, that is with both cores kept
busy and nothing else running. ``--learners 30`` grades such a room for real: its wall
time is then the measured figure.

``--trim-imports`` is kept for older command lines: the workers block ``rfc3987_syntax``
themselves now (``perflab.grading.kernel_pool.skip_slow_imports``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell

from perflab.grading import runner
from perflab.grading.results import Status

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("solved", "unsolved", "broken")


def build_room(
    folder: Path, learners: int, seed: int, mix: tuple[float, float, float]
) -> dict[str, int]:
    """Write ``learners`` sub-folders of 15 notebooks each; return how many of each kind."""
    rng = random.Random(seed)
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    counts = dict.fromkeys(KINDS, 0)
    for i in range(learners):
        home = folder / f"learner-{i + 1:03d}"
        home.mkdir(parents=True)
        for solution in solutions:
            kind = rng.choices(KINDS, weights=mix)[0]
            counts[kind] += 1
            if kind == "unsolved":
                shutil.copy(ROOT / "exercises" / solution.name, home / solution.name)
                continue
            nb = nbformat.read(solution, as_version=4)
            if kind == "broken":
                nb.cells.append(new_code_cell('raise RuntimeError("a learner\'s bug")'))
            nbformat.write(nb, home / solution.name)
    return counts


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _is_import_cell(source: str) -> bool:
    lines = [x.strip() for x in source.splitlines() if x.strip() and not x.strip().startswith("#")]
    return bool(lines) and all(x.startswith(("import ", "from ")) for x in lines)


@dataclass
class Split:
    """Seconds of one run, by phase; ``None`` when papermill left no timestamps."""

    wall: float
    phases: dict[str, float] | None = None


def split_run(nb: Any, wall: float) -> Split:
    """Split one run's wall time by the timestamps papermill wrote into ``nb``."""
    try:
        pm = nb.metadata["papermill"]
        start, end = _stamp(pm["start_time"]), _stamp(pm["end_time"])
        cells = [
            (c.metadata["papermill"], c.source)
            for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("papermill", {}).get("start_time")
        ]
        first = _stamp(cells[0][0]["start_time"])
        last = max(_stamp(m["end_time"]) for m, _ in cells if m.get("end_time"))
    except (KeyError, IndexError, TypeError, ValueError):
        return Split(wall)
    imports = sum(float(m.get("duration") or 0) for m, src in cells if _is_import_cell(src))
    return Split(
        wall,
        {
            "grader": wall - (end - start),
            "kernel start": first - start,
            "imports": imports,
            "own cells": (last - first) - imports,
            "kernel stop": end - last,
        },
    )


@dataclass
class Recorder:
    """Collects one ``Split`` per run, from the runner's threads."""

    runs: list[Split] = field(default_factory=list)
    references: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)

    def install(self) -> None:
        """Wrap ``runner._run_once`` and ``runner.grade_run``; behaviour is unchanged."""
        run_once, grade_run = runner._run_once, runner.grade_run
        run_reference = runner._run_reference

        def timed_run_once(*args: Any, **kwargs: Any) -> Any:
            self.local.nb = None
            self.local.reference_s = 0.0
            started = time.perf_counter()
            try:
                return run_once(*args, **kwargs)
            finally:
                # a first run with a seed also runs the reference solution (then cached)
                wall = time.perf_counter() - started - self.local.reference_s
                nb = self.local.nb
                with self.lock:
                    self.runs.append(split_run(nb, wall) if nb is not None else Split(wall))

        def timed_reference(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return run_reference(*args, **kwargs)
            finally:
                took = time.perf_counter() - started
                self.local.reference_s = getattr(self.local, "reference_s", 0.0) + took
                with self.lock:
                    self.references.append(took)

        def spied_grade_run(nb: Any, *args: Any, **kwargs: Any) -> Any:
            self.local.nb = nb
            return grade_run(nb, *args, **kwargs)

        runner._run_once = timed_run_once  # type: ignore[assignment]
        runner._run_reference = timed_reference  # type: ignore[assignment]
        runner.grade_run = spied_grade_run  # type: ignore[assignment]


SITE = """
import atexit, os, sys, time
from perflab.grading.kernel_pool import skip_slow_imports
skip_slow_imports()
_LOG = {log!r}
_argv0 = sys.argv[0] if sys.argv else ''


def _kind():
    name = os.path.basename(sys.argv[0] if sys.argv else '')
    if 'ipykernel' in name:
        return 'kernel'
    if name == '_worker.py':
        return 'worker'
    if name == 'kernel_pool.py':
        return 'server'
    return 'other'


def _log():
    t = os.times()
    line = dict(kind=_kind(), role=os.environ.get('PERFLAB_CHECK_ROLE', ''), pid=os.getpid(),
                self=t.user + t.system, children=t.children_user + t.children_system,
                )
    try:
        with open(os.path.join(_LOG, f'{{os.getpid()}}-{{time.time_ns()}}.json'), 'w') as f:
            f.write(repr(line))
    except OSError:
        pass


atexit.register(_log)
"""


def cpu_log_site(base: Path) -> tuple[Path, Path]:
    """A sitecustomize folder and the folder it logs to, both reachable from every run."""
    site, log = base / "site", base / "cpu"
    site.mkdir(parents=True)
    base.parent.chmod(0o755)
    log.mkdir()
    base.chmod(0o755)
    site.chmod(0o755)
    log.chmod(0o1777)  # kernels run as a throwaway uid
    (site / "sitecustomize.py").write_text(SITE.format(log=str(log)), encoding="utf-8")
    (site / "sitecustomize.py").chmod(0o644)
    return site, log


def read_log(log: Path) -> list[dict[str, Any]]:
    """Every process's line, and empty the folder for the next mode."""
    import ast

    lines = []
    for path in log.iterdir():
        try:
            lines.append(ast.literal_eval(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, SyntaxError):
            pass
        path.unlink()
    return lines


PARTS = (
    "grading process",
    "workers (start, imports, papermill)",
    "kernels (start and cells)",
)


def split_cpu(lines: list[dict[str, Any]], grader: float) -> dict[str, dict[str, float]]:
    """CPU seconds by part, for the learner runs and the reference runs apart."""
    out = {role: dict.fromkeys(PARTS, 0.0) for role in ("learner", "reference")}
    out["learner"]["grading process"] = grader
    for line in lines:
        role = "reference" if line["role"] == "reference" else "learner"
        part = out[role]
        if line["kind"] == "worker":
            part["workers (start, imports, papermill)"] += line["self"]
            # the worker's only child is its kernel (killed at the end, so it can't log
            # itself), with whatever the notebook started
            part["kernels (start and cells)"] += line["children"]
        elif line["kind"] == "server":  # imports once, for every run after
            out["learner"]["workers (start, imports, papermill)"] += line["self"]
    return out


@dataclass
class Mode:
    """One way of grading the room, and what it cost."""

    name: str
    seeds: int
    fork_server: bool
    references_first: bool
    figures: dict[str, Any] = field(default_factory=dict)


def grade(mode: Mode, room: Path, args: argparse.Namespace, log: Path) -> list[Any]:
    """Grade the room one way; fill ``mode.figures``."""
    from perflab.grading import execute, kernel_pool
    from perflab.grading.reference import ReferenceCache

    built_in = hasattr(execute, "kernel_pool")  # execute.py already calls kernel_pool.start
    os.environ["PERFLAB_CHECK_FORK_SERVER"] = "1" if mode.fork_server else "0"
    before = kernel_pool.install(execute) if mode.fork_server and not built_in else None
    recorder = Recorder()
    saved = (runner._run_once, runner._run_reference, runner.grade_run)
    recorder.install()
    options = runner.CheckOptions(
        seeds=runner.fresh_seeds(mode.seeds), timeout_s=args.timeout, cache=ReferenceCache()
    )
    read_log(log)
    cpu0 = os.times()
    started = time.perf_counter()
    try:
        reports = runner.check_paths(
            [room], options, workers=args.workers, references_first=mode.references_first
        )
    finally:
        wall = time.perf_counter() - started
        kernel_pool.shutdown()  # reaped, so its CPU (and its runs') is counted below
        cpu1 = os.times()
        runner._run_once, runner._run_reference, runner.grade_run = saved
        if before is not None:
            kernel_pool.uninstall(execute, before)
        os.environ.pop("PERFLAB_CHECK_FORK_SERVER", None)
    children = (cpu1.children_user + cpu1.children_system) - (
        cpu0.children_user + cpu0.children_system
    )
    grader = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    parts = split_cpu(read_log(log), grader)
    notebooks = len(reports)
    refs = len(recorder.references)
    learner_cpu = sum(parts["learner"].values())
    reference_cpu = sum(parts["reference"].values())
    per_ref = reference_cpu / refs if refs else 0.0
    cores = os.cpu_count() or 1
    exercises = len(list((ROOT / "solutions").glob("*.ipynb")))
    room_cpu = 30 * exercises * learner_cpu / notebooks + exercises * mode.seeds * per_ref
    mode.figures = {
        "notebooks": notebooks,
        "wall_s": round(wall, 1),
        "notebooks_per_min": round(notebooks / wall * 60, 1),
        "learner_runs_per_notebook": round(len(recorder.runs) / notebooks, 2),
        "reference_runs": refs,
        "cpu_s_total_measured": round(children + grader, 1),
        "cpu_s_total_split": round(learner_cpu + reference_cpu, 1),
        "cpu_s_per_notebook": round((children + grader) / notebooks, 2),
        "split_cpu_s_per_notebook": {
            p: round((parts["learner"][p] + parts["reference"][p]) / notebooks, 3) for p in PARTS
        },
        "reference_cpu_s_per_notebook": round(reference_cpu / notebooks, 3),
        "cpu_s_per_reference_run": round(per_ref, 2),
        "exercises": exercises,
        "room_30_cpu_s": round(room_cpu, 0),
        "room_30_min_on_all_cores": round(room_cpu / cores / 60, 1),
        "passed_notebooks": sum(rep.passed for rep in reports),
        "ungraded_notebooks": sum(
            any(r.status is Status.UNGRADED for r in rep.results) for rep in reports
        ),
    }
    return reports


def main() -> None:
    """Build the room, grade it before and after, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=3, help="learners in the room")
    parser.add_argument("--workers", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--seed", type=int, default=7, help="seed of the room's mix")
    parser.add_argument(
        "--mix",
        type=float,
        nargs=3,
        default=(0.5, 0.3, 0.2),
        metavar=("SOLVED", "UNSOLVED", "BROKEN"),
        help="weights of the three kinds of copy (default 0.5 0.3 0.2)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="per-cell timeout (s)")
    parser.add_argument(
        "--only",
        choices=("before", "after", "scratch"),
        help="grade the room one way only ('scratch': one seed, references first, but every "
        "worker and kernel started from scratch, as in a non-root pod)",
    )
    parser.add_argument("--trim-imports", action="store_true", help="(kept; now the default)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    modes = [
        Mode("before", seeds=2, fork_server=False, references_first=False),
        Mode("after", seeds=1, fork_server=True, references_first=True),
    ]
    if args.only == "scratch":
        modes.append(Mode("scratch", seeds=1, fork_server=False, references_first=True))
    modes = [m for m in modes if args.only in (None, m.name)]
    base = Path(
        tempfile.mkdtemp(prefix="perflab-bench-", dir="/run" if os.geteuid() == 0 else None)
    )
    try:
        site, log = cpu_log_site(base / "b")
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p
        )
        room = base / "room"
        counts = build_room(room, args.learners, args.seed, tuple(args.mix))  # type: ignore[arg-type]
        for mode in modes:
            grade(mode, room, args, log)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    first = modes[0].figures
    print(
        f"grading a synthetic room on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} "
        "(a shared machine: read the CPU seconds, not the wall times)"
    )
    print(
        f"room: {args.learners} learners x {first['notebooks'] // max(1, args.learners)} "
        f"exercises = {first['notebooks']} notebooks ({counts['solved']} solved, "
        f"{counts['unsolved']} unsolved, {counts['broken']} broken); workers {args.workers}"
    )
    print()
    rows: list[tuple[str, ...]] = [
        ("wall time (s)", *(f"{m.figures['wall_s']:.1f}" for m in modes)),
        ("notebooks per minute (wall)", *(f"{m.figures['notebooks_per_min']:.1f}" for m in modes)),
        ("seeds per notebook (default)", *(str(m.seeds) for m in modes)),
        (
            "learner runs per notebook",
            *(f"{m.figures['learner_runs_per_notebook']:.2f}" for m in modes),
        ),
        ("reference runs (whole room)", *(str(m.figures["reference_runs"]) for m in modes)),
        (
            "CPU-s per notebook, all processes",
            *(f"{m.figures['cpu_s_per_notebook']:.2f}" for m in modes),
        ),
        *(
            (f"  {p}", *(f"{m.figures['split_cpu_s_per_notebook'][p]:.2f}" for m in modes))
            for p in PARTS
        ),
        (
            "  of all that, reference runs",
            *(f"{m.figures['reference_cpu_s_per_notebook']:.2f}" for m in modes),
        ),
        (
            "CPU-s of one reference run",
            *(f"{m.figures['cpu_s_per_reference_run']:.2f}" for m in modes),
        ),
        (
            f"30 x {modes[0].figures['exercises']} room: CPU-s (computed)",
            *(f"{m.figures['room_30_cpu_s']:.0f}" for m in modes),
        ),
        (
            f"30 x {modes[0].figures['exercises']} room: minutes = CPU-s / {os.cpu_count()} cores",
            *(f"{m.figures['room_30_min_on_all_cores']:.1f}" for m in modes),
        ),
        (
            "notebooks passed / ungraded",
            *(
                f"{m.figures['passed_notebooks']} / {m.figures['ungraded_notebooks']}"
                for m in modes
            ),
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  " + "  ".join(f"{m.name:>8}" for m in modes))
    print(f"{'-' * width}  " + "  ".join("-" * 8 for _ in modes))
    for key, *values in rows:
        print(f"{key:<{width}}  " + "  ".join(f"{v:>8}" for v in values))
    for m in modes:
        gap = m.figures["cpu_s_total_measured"] - m.figures["cpu_s_total_split"]
        print(
            f"{m.name}: {m.figures['cpu_s_total_measured']:.1f} CPU-s measured (os.times), "
            f"{m.figures['cpu_s_total_split']:.1f} split by process ({gap:+.1f} not logged: "
            "processes killed before they could log, and unshare)"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"counts": counts, **{m.name: m.figures for m in modes}}, indent=2),
            encoding="utf-8",
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
