"""Engine pieces against the production libraries they stand in for, in one run.

    python benchmarks/engine.py            # the full table (about 1-2 minutes on 2 cores)
    python benchmarks/engine.py --quick    # fewer repetitions, for a smoke run
    python benchmarks/engine.py --only-ivf # exact vs IVF search: P50 and recall@1

Every row is measured in this process, one after the other, so rows compare with each
other; numbers from another machine or another run do not. Per-call figures are the
best of several repeats (noise only ever adds time), and "overhead" subtracts the
same loop calling the bare function. Lookups are timed one by one and reported as
P50/P95.

Needs the ``bench`` extra (pybreaker, tenacity, aiolimiter, hdrhistogram, gptcache,
sqlalchemy). A missing library turns its rows into "not installed".
The rows live in ``engine_resilience.py``, ``engine_metrics.py``, ``engine_store.py``
and ``engine_cache.py``; the timers and the table in ``harness.py`` (shared with
``db.py`` and ``sim.py``). GPTCache gets a small exact numpy vector store (below) instead of faiss, which is not
installed: both caches then search the same way and the rows compare the cache
machinery around the search.
"""

from __future__ import annotations

from harness import RESULTS, machine_line  # first: one BLAS thread, this checkout on sys.path

# isort: split
import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from engine_cache import bench_cache
from engine_metrics import bench_pool, bench_recorder
from engine_resilience import bench_breaker, bench_limits, bench_retry
from engine_store import IVF_RECALL, bench_ivf, bench_store

from perflab.metrics import format_duration

# ------------------------------------------------------------------------- main


def check_aims() -> None:
    """The targets set for the engine (issue 2), judged on this run's numbers."""

    get = RESULTS.get

    def judge(text: str, ours: float | None, other: float | None, factor: float = 1.0) -> None:
        """Met when ``ours * factor <= other`` (``other`` a limit or a rival's time)."""
        if ours is None or other is None:
            print(f"  [   ?  ] {text}: not measured")
            return
        verdict = "met" if ours * factor <= other else "MISSED"
        print(
            f"  [{verdict:^6}] {text}: {format_duration(ours)} vs {format_duration(other)}"
            f" ({other / ours:.1f}x)"
        )

    print("\naims (this run)")
    judge("breaker overhead < 1 us", get("perflab CircuitBreaker.call", "overhead per call"), 1e-6)
    judge(
        "breaker faster than pybreaker",
        get("perflab CircuitBreaker.call", "overhead per call"),
        get("pybreaker CircuitBreaker.call", "overhead per call"),
    )
    judge("retry overhead < 2 us", get("perflab Retry.call", "overhead per call"), 2e-6)
    judge("recorder < 0.2 us per record", get("perflab LatencyRecorder.record", "per record"), 2e-7)
    judge(
        "recorder faster than hdrhistogram",
        get("perflab LatencyRecorder.record", "per record"),
        get("hdrhistogram record_value", "per record"),
    )
    judge(
        "token bucket faster than aiolimiter",
        get("perflab await TokenBucket.acquire", "overhead per call"),
        get("aiolimiter async with AsyncLimiter", "overhead per call"),
    )
    judge(
        "store top-1 P50 < 1 ms at 1e5",
        get("perflab MemoryStore.search, 1e5", "P50 per search"),
        1e-3,
    )
    for name in ("text", "uniform"):
        near_r, fresh_r = IVF_RECALL.get((name, 100_000, 8), (float("nan"), float("nan")))
        judge(
            f"store top-1 P50 < 1 ms at 1e5, ivf nprobe=8 ({name}: recall@1 near"
            f" {near_r:.3f}, fresh {fresh_r:.3f})",
            get(f"MemoryStore ivf nprobe=8, 1e5 {name}", "P50 per search"),
            1e-3,
        )
    for kind in ("hit", "miss"):
        for where in ("sqlite", "in-memory sqlite"):
            judge(
                f"cache {kind} >= 10x faster than GPTCache ({where})",
                get("perflab SemanticCache+MemoryStore, 1e4", f"{kind} P50"),
                get(f"GPTCache get ({where} + numpy), 1e4", f"{kind} P50"),
                factor=10.0,
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--no-markdown", action="store_true", help="skip the markdown table")
    parser.add_argument("--no-ivf", action="store_true", help="skip exact-vs-IVF (about 1 minute)")
    parser.add_argument("--only-ivf", action="store_true", help="run only exact-vs-IVF")
    args = parser.parse_args(argv)
    quick = args.quick
    n, repeat = (20_000, 3) if quick else (200_000, 5)
    samples = 100_000 if quick else 1_000_000
    queries = 50 if quick else 300
    t0 = time.perf_counter()
    print(machine_line(f"perflab engine benchmark ({'quick' if quick else 'full'})"))
    if not args.only_ivf:
        bench_breaker(n, repeat)
        bench_retry(n // 4, repeat)
        bench_limits(n, repeat)
        bench_recorder(samples, 3)
        bench_pool(n // 4, repeat)
        bench_store([10_000, 100_000], queries)
    if not args.no_ivf:
        bench_ivf([10_000, 100_000], queries)
    if not args.only_ivf:
        with tempfile.TemporaryDirectory() as tmp:
            bench_cache(10_000, queries, Path(tmp))
    print(f"total {time.perf_counter() - t0:.0f} s")
    check_aims()
    if not args.no_markdown:
        RESULTS.print_markdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
