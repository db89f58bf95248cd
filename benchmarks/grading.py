"""Benchmark grading a room: notebooks per minute, and where each notebook's time goes.

    .venv/bin/python benchmarks/grading.py [--learners 30] [--workers 2] [--trim-imports]

Builds a synthetic room of N learners, each with a copy of every one of the 15 exercises:
solved (from solutions/), unsolved (from exercises/) or broken (a solution with one extra
cell that raises), in a seeded mix. Grades it with ``check_paths(..., workers=W)``, the
engine of ``perflab check ROOM --workers W``, and prints one table:

* notebooks per minute over the whole room, and runs (one per seed) per notebook;
* the runs of the reference solutions (one per exercise and seed, cached for the room),
  timed apart;
* seconds per notebook, split into
  - grader: outside papermill's own clock (the worker process start, importing papermill
    and nbformat, writing the run's files, reading the executed notebook, grading);
  - kernel start: papermill's ``start_time`` to the first cell's ``start_time``;
  - imports: the notebook's cells that only import;
  - own cells: every other cell, first cell start to last cell end, minus the imports;
  - kernel stop: the last cell's ``end_time`` to papermill's ``end_time``.

The split reads the timestamps papermill writes into the executed notebook's metadata
(``metadata.papermill.start_time``/``end_time``, and per cell); the runner's own timing
is each run's wall time. To get both, the benchmark wraps two runner internals
(``_run_once`` and ``grade_run``) without changing what they do.

``--trim-imports`` runs every worker and kernel with ``rfc3987_syntax`` blocked (see
``perflab.grading.kernel_pool.skip_slow_imports``): jsonschema imports it for IRI formats
that notebook validation never uses, and it costs about a second of CPU per process.
The workers do not do this by themselves yet; the flag measures what that hook would save.

Timings vary with the machine and its load (other processes share the cores); the table
says what it measured, on what.
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


def trim_imports_env() -> None:
    """Make every process the grader starts block ``rfc3987_syntax`` (trim_site/)."""
    site = Path(__file__).resolve().parent / "trim_site"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p
    )


def main() -> None:
    """Build the room, grade it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=30, help="learners in the room")
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
    parser.add_argument("--trim-imports", action="store_true", help="block rfc3987_syntax")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="perflab-bench-grading-"))
    try:
        if args.trim_imports:
            trim_imports_env()
        room = scratch / "room"
        counts = build_room(room, args.learners, args.seed, tuple(args.mix))  # type: ignore[arg-type]
        recorder = Recorder()
        recorder.install()
        options = runner.CheckOptions(timeout_s=args.timeout)
        cpu0 = os.times()
        started = time.perf_counter()
        reports = runner.check_paths([room], options, workers=args.workers)
        wall = time.perf_counter() - started
        cpu1 = os.times()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    notebooks = len(reports)
    runs = recorder.runs
    split = [r.phases for r in runs if r.phases is not None]
    phases = list(split[0]) if split else []
    per_nb = {p: sum(s[p] for s in split) / notebooks for p in phases}
    run_wall = sum(r.wall for r in runs) / notebooks
    # children's CPU: the workers and kernels (they are reaped, so their time is counted)
    cpu = (cpu1.children_user + cpu1.children_system) - (cpu0.children_user + cpu0.children_system)
    parent = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    cpu += parent
    per_run = cpu / max(1, len(runs) + len(recorder.references))  # learner or reference
    passed = sum(rep.passed for rep in reports)
    ungraded = sum(any(r.status is Status.UNGRADED for r in rep.results) for rep in reports)
    figures: dict[str, Any] = {
        "learners": args.learners,
        "notebooks": notebooks,
        "kinds": counts,
        "workers": args.workers,
        "trim_imports": args.trim_imports,
        "wall_s": round(wall, 1),
        "notebooks_per_min": round(notebooks / wall * 60, 1),
        "runs_per_notebook": round(len(runs) / notebooks, 2),
        "reference_runs": len(recorder.references),
        "reference_wall_s": round(sum(recorder.references), 1),
        "cpu_s_per_notebook": round(cpu / notebooks, 2),
        "grader_process_cpu_s_per_notebook": round(parent / notebooks, 2),
        "run_wall_s_per_notebook": round(run_wall, 2),
        "split_s_per_notebook": {p: round(v, 2) for p, v in per_nb.items()},
        "passed_notebooks": passed,
        "ungraded_notebooks": ungraded,
        "projected_30x15_min": round(450 / (notebooks / wall) / 60, 1),
        # all of a 30 x 15 room's CPU work spread perfectly over every core, nothing else
        # running: its learner runs at this room's runs per notebook, plus the reference
        # runs, which depend on the exercises and seeds, not on the number of learners
        "cpu_s_per_run": round(per_run, 2),
        "cpu_bound_30x15_min": round(
            (450 * len(runs) / notebooks + len(recorder.references))
            * per_run
            / (os.cpu_count() or 1)
            / 60,
            1,
        ),
    }

    print(
        f"grading a synthetic room on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"room: {args.learners} learners x {notebooks // max(1, args.learners)} exercises = "
        f"{notebooks} notebooks "
        f"({counts['solved']} solved, {counts['unsolved']} unsolved, "
        f"{counts['broken']} broken); workers {args.workers}; "
        f"trim imports {'on' if args.trim_imports else 'off'}"
    )
    print()
    rows = [
        ("wall time", f"{wall:.1f} s"),
        ("notebooks per minute", f"{figures['notebooks_per_min']:.1f}"),
        ("runs (seeds) per notebook", f"{figures['runs_per_notebook']:.2f}"),
        (
            "reference solution runs (wall s, all)",
            f"{len(recorder.references)} ({sum(recorder.references):.1f} s)",
        ),
        ("CPU seconds per notebook (all processes)", f"{figures['cpu_s_per_notebook']:.2f}"),
        ("  of which the grading process itself", f"{parent / notebooks:.2f}"),
        ("CPU seconds per run (learner or reference)", f"{per_run:.2f}"),
        ("learner run wall seconds per notebook", f"{run_wall:.2f}"),
        *((f"  {p}", f"{v:.2f}") for p, v in per_nb.items()),
        ("30 x 15 room at this rate", f"{figures['projected_30x15_min']:.1f} min"),
        (
            f"30 x 15 room, CPU-bound on {os.cpu_count()} idle cores",
            f"{figures['cpu_bound_30x15_min']:.1f} min",
        ),
        ("notebooks passed / ungraded", f"{passed} / {ungraded}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 10}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if len(split) < len(runs):
        print(f"\n{len(runs) - len(split)} runs left no papermill timestamps (not split).")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
