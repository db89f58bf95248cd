"""What every benchmark script shares: the set-up, the timers and the tables.

Import it first (before numpy): it pins BLAS to one thread and puts the checkout on
``sys.path``, so ``python benchmarks/<script>.py`` measures this tree's perflab.

* **Set-up.** One BLAS thread (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
  ``MKL_NUM_THREADS`` default to 1; set them yourself to override): on a shared 2-core
  machine a multi-threaded mat-vec waits for the second thread, and single-query
  latency is what a lookup pays.
* **Timers.** ``per_call`` / ``per_call_async``: best-of-``repeat`` seconds per call
  (noise only ever adds time). ``time_each`` / ``time_calls`` / ``atime_calls``: each
  call timed alone into a ``LatencyRecorder`` (for P50/P95). ``median_time``: the median
  of several runs of one whole workload, after a warm-up run.
* **Tables.** ``Results`` collects ``(piece, implementation, measure, value, note)``
  rows, echoes each as it comes and prints them as Markdown; ``markdown_table`` prints
  any rows as a Markdown table; ``aligned_table`` as plain aligned text.
  ``machine_line`` says what the numbers were measured on.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import asyncio
import gc
import importlib.util
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perflab.metrics import LatencyRecorder, format_duration

T = TypeVar("T")

#: The vector size every store and search benchmark uses (WordLlama's, MiniLM's).
DIM = 384


# ----------------------------------------------------------------------- set-up


def have(module: str) -> bool:
    """Whether ``module`` is installed (its rows say "not installed" otherwise)."""
    return importlib.util.find_spec(module) is not None


def machine_line(title: str, **extra: object) -> str:
    """``title: python 3.11.7, numpy 2.4.6, 2 cpus, load average 1.0, 2.0, 3.0, ...``."""
    import numpy as np

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    parts = [
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"{os.cpu_count()} cpus",
        f"load average {load}",
        *(f"{k.replace('_', ' ')} {v}" for k, v in extra.items()),
    ]
    return f"{title}: " + ", ".join(parts)


# ----------------------------------------------------------------------- timers


def per_call(fn: Callable[[], object], n: int, repeat: int) -> float:
    """Best-of-``repeat`` seconds per call of ``fn`` over ``n`` calls (GC off while timing)."""
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, (time.perf_counter() - t0) / n)
        finally:
            gc.enable()
    return best


def per_call_async(body: Callable[[int], Awaitable[None]], n: int, repeat: int) -> float:
    """Best-of-``repeat`` seconds per iteration of an async loop ``body(n)``."""

    async def run() -> float:
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            await body(n)
            best = min(best, (time.perf_counter() - t0) / n)
        return best

    return asyncio.run(run())


def time_each(fn: Callable[[T], object], args: Sequence[T]) -> LatencyRecorder:
    """Time ``fn(arg)`` once per arg, each call alone, into a recorder."""
    rec = LatencyRecorder()
    for arg in args:
        t0 = time.perf_counter()
        fn(arg)
        rec.record(time.perf_counter() - t0)
    return rec


def time_calls(fn: Callable[[], Any], n: int, warmup: int = 3) -> LatencyRecorder:
    """Time ``n`` calls one by one (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        fn()
    return time_each(lambda _: fn(), range(n))


async def atime_calls(fn: Callable[[], Awaitable[Any]], n: int, warmup: int = 3) -> LatencyRecorder:
    """Time ``n`` awaited calls one by one (after ``warmup`` untimed ones)."""
    for _ in range(warmup):
        await fn()
    rec = LatencyRecorder()
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        rec.record(time.perf_counter() - start)
    return rec


def median_time(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """The median wall time of ``repeats`` runs of ``fn`` (after one warm-up), and its result."""
    result = fn()  # warm-up: imports, embedder load, caches
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# ----------------------------------------------------------------------- tables


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[object]], title: str = ""
) -> None:
    """Print ``rows`` under ``header`` as a Markdown table (columns padded), then flush."""
    if title:
        print(f"\n### {title}\n")
    cells = [[str(c) for c in header], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    sys.stdout.flush()


def aligned_table(rows: Sequence[tuple[str, str, str]]) -> None:
    """Print ``(name, value, note)`` rows as aligned text: names left, values right."""
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}".rstrip())


class Results:
    """The rows of one run: ``add`` echoes a row at once (a long run shows progress)."""

    HEADER = ("piece", "implementation", "measure", "result", "note")

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.values: dict[tuple[str, str], float] = {}  # (implementation, measure) -> s

    def add(
        self, piece: str, impl: str, measure: str, seconds: float | None, note: str = ""
    ) -> None:
        """One row; ``seconds=None`` means the library is not installed."""
        value = "not installed" if seconds is None else format_duration(seconds)
        if seconds is not None:
            self.values[(impl, measure)] = seconds
        self.rows.append((piece, impl, measure, value, note))
        print(f"  {piece:<22} {impl:<34} {measure:<28} {value:>10}  {note}", flush=True)

    def get(self, impl: str, measure: str) -> float | None:
        """The seconds of the row ``(impl, measure)``, ``None`` if not measured."""
        return self.values.get((impl, measure))

    def print_markdown(self) -> None:
        """Every row as a Markdown table (results right-aligned)."""
        print("\n| " + " | ".join(self.HEADER) + " |")
        print("|---|---|---|---:|---|")
        for row in self.rows:
            print("| " + " | ".join(row) + " |")


#: The engine benchmark's rows (its modules add to this one table).
RESULTS = Results()
add = RESULTS.add
