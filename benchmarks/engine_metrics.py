"""Engine benchmark rows: the latency recorder against list.append, numpy.percentile and
HdrHistogram; the connection pool against an asyncio.Queue (``benchmarks/engine.py``)."""

from __future__ import annotations

from harness import add, have, per_call, per_call_async  # first

# isort: split
import asyncio
import time

import numpy as np

from perflab.metrics import LatencyRecorder

# ---------------------------------------------------------------------- recorder


def bench_recorder(samples: int, repeat: int) -> None:
    print(f"latency recorder ({samples:,} samples)")
    values = np.random.default_rng(0).lognormal(-3.0, 1.0, samples)
    as_list = values.tolist()
    label = f"{samples:.0e}".replace("+0", "")

    def fill_list() -> None:
        out: list[float] = []
        append = out.append
        for v in as_list:
            append(v)

    base = per_call(fill_list, 1, repeat) / samples
    add("latency recorder", "list.append (floor)", "per record", base)

    rec = LatencyRecorder()

    def fill_ours() -> None:
        rec.reset()
        record = rec.record
        for v in as_list:
            record(v)

    add(
        "latency recorder",
        "perflab LatencyRecorder.record",
        "per record",
        per_call(fill_ours, 1, repeat) / samples,
    )
    t0 = time.perf_counter()
    rec.percentiles([50, 95, 99])
    add(
        "latency recorder",
        "perflab P50/P95/P99",
        f"first query at {label}",
        time.perf_counter() - t0,
        "sorts once",
    )
    add(
        "latency recorder",
        "perflab P50/P95/P99",
        "repeat query",
        per_call(lambda: rec.percentiles([50, 95, 99]), 1000, repeat),
        "sorted data cached",
    )
    rec.record(0.05)
    t0 = time.perf_counter()
    rec.percentiles([50, 95, 99])
    add(
        "latency recorder",
        "perflab P50/P95/P99",
        "after 1 more record",
        time.perf_counter() - t0,
        "merges the new sample",
    )

    add(
        "latency recorder",
        "numpy.percentile(array, [50,95,99])",
        f"query at {label}",
        per_call(lambda: np.percentile(values, [50, 95, 99]), 1, repeat),
    )

    if have("hdrh"):
        from hdrh.histogram import HdrHistogram

        micros = (values * 1e6).astype(np.int64).tolist()
        hist = HdrHistogram(1, 3_600_000_000, 3)

        def fill_hdr() -> None:
            hist.reset()
            record = hist.record_value
            for v in micros:
                record(v)

        add(
            "latency recorder",
            "hdrhistogram record_value",
            "per record",
            per_call(fill_hdr, 1, repeat) / samples,
            "3 significant digits",
        )
        add(
            "latency recorder",
            "hdrhistogram P50/P95/P99",
            f"query at {label}",
            per_call(lambda: [hist.get_value_at_percentile(q) for q in (50, 95, 99)], 10, repeat),
        )
    else:
        add("latency recorder", "hdrhistogram", "per record", None)


# -------------------------------------------------------------------------- pool


def bench_pool(n: int, repeat: int) -> None:
    from perflab.pool import ConnectionPool

    print("connection pool (trivial connection)")

    async def connect() -> object:
        return object()

    async def ours(k: int) -> None:
        async with ConnectionPool(connect, min_size=2, max_size=10) as pool:
            for _ in range(k):
                async with pool.connection():
                    pass

    async def queue(k: int) -> None:
        q: asyncio.Queue[object] = asyncio.Queue()
        for _ in range(2):
            q.put_nowait(object())
        for _ in range(k):
            conn = await q.get()
            q.put_nowait(conn)

    add(
        "connection pool",
        "perflab ConnectionPool borrow+return",
        "per borrow",
        per_call_async(ours, n, repeat),
    )
    add(
        "connection pool",
        "asyncio.Queue get+put (floor)",
        "per borrow",
        per_call_async(queue, n, repeat),
    )
