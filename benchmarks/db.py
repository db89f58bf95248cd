"""Database measurements on the embedded PostgreSQL (or DATABASE_URL), in one run.

    python benchmarks/db.py                 # 10^4 vectors (a few minutes on 2 cores)
    python benchmarks/db.py --big           # also 10^5 vectors (slow: index builds, exact scans)
    python benchmarks/db.py --quick         # fewer repetitions, for a smoke run

Three tables:

1. Connections: a fresh psycopg connection through the latency proxy (default RTT 50 ms,
   so about 150 ms), and without it, against borrowing from a warm pool: perflab's
   ``ConnectionPool`` and ``psycopg_pool.AsyncConnectionPool`` side by side, each
   borrow+return alone and with a ``select 1`` (one round trip through the proxy).
2. Vector search: exact vs HNSW vs IVFFlat top-1 over clustered 384-dimension unit
   vectors (queries are noisy copies of stored ones, as cache lookups are paraphrases):
   build time, P50 latency and recall@1 against the exact answer.
3. Store lookups: ``search(k=1)`` latency of MemoryStore, SQLiteStore and PostgresStore
   (exact and HNSW) at the same sizes.

Every row is measured in this process, one after the other; numbers from another
machine or another run do not compare. Latencies are per call, reported as P50 (and
P95 where it matters), after a warm-up.
"""

from __future__ import annotations

from harness import DIM, atime_calls, markdown_table, time_calls, time_each  # first

# isort: split
import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from perflab.backends.embedded import EmbeddedPostgres, pgserver_problem
from perflab.backends.postgres import PostgresStore, migrate
from perflab.backends.proxy import DEFAULT_RTT, LatencyProxy
from perflab.cache import MemoryStore, NewEntry, SQLiteStore
from perflab.metrics import format_duration as fmt


def table(title: str, header: Sequence[str], rows: list[Sequence[object]]) -> None:
    markdown_table(header, rows, title=title)


# ------------------------------------------------------------------ 1. connections
async def connections(url: str, rtt: float, quick: bool) -> None:
    import psycopg
    import psycopg_pool

    from perflab.pool import ConnectionPool

    fresh_n, borrow_n, query_n = (5, 500, 5) if quick else (15, 5000, 20)
    rows: list[Sequence[object]] = []

    async def fresh(target: str) -> None:
        conn = await psycopg.AsyncConnection.connect(target, autocommit=True)
        await conn.close()

    local = await atime_calls(lambda: fresh(url), fresh_n * 2)
    rows.append(["fresh connection, local socket", fresh_n * 2, fmt(local.percentile(50)), "-"])
    async with LatencyProxy.for_url(url, rtt=rtt) as proxy:
        remote = proxy.url
        before = proxy.stats().round_trips
        conn = await psycopg.AsyncConnection.connect(remote, autocommit=True)
        trips = (
            proxy.stats().round_trips - before
        )  # the connect alone (close sends one message, no reply)
        await conn.close()
        rec = await atime_calls(lambda: fresh(remote), fresh_n, warmup=1)
        rows.append(
            [
                f"fresh connection via proxy (RTT {rtt * 1e3:.0f} ms)",
                fresh_n,
                fmt(rec.percentile(50)),
                f"{trips} round trips",
            ]
        )

        async def connect() -> Any:
            return await psycopg.AsyncConnection.connect(remote, autocommit=True)

        async def close(conn: Any) -> None:
            await conn.close()

        ours = ConnectionPool(connect, min_size=2, max_size=2, close_conn=close)
        theirs = psycopg_pool.AsyncConnectionPool(
            remote, min_size=2, max_size=2, open=False, kwargs={"autocommit": True}
        )
        await ours.open()
        await theirs.open(wait=True)
        try:
            for name, pool in (
                ("perflab ConnectionPool", ours),
                ("psycopg_pool AsyncConnectionPool", theirs),
            ):

                async def borrow(pool: Any = pool) -> None:
                    async with pool.connection():
                        pass

                async def borrow_query(pool: Any = pool) -> None:
                    async with pool.connection() as conn:
                        await conn.execute("select 1")

                rec = await atime_calls(borrow, borrow_n, warmup=50)
                rows.append(
                    [
                        f"{name}: borrow + return",
                        borrow_n,
                        fmt(rec.percentile(50)),
                        f"P95 {fmt(rec.percentile(95))}",
                    ]
                )
                rec = await atime_calls(borrow_query, query_n)
                rows.append(
                    [
                        f"{name}: borrow + select 1 + return",
                        query_n,
                        fmt(rec.percentile(50)),
                        "1 round trip",
                    ]
                )
        finally:
            await ours.close()
            await theirs.close()
    table("Connections: fresh vs pooled", ["what", "n", "P50", "note"], rows)


# ------------------------------------------------------------------ 2. vector search
def clustered(n: int, dim: int, rng: np.random.Generator, clusters: int = 200) -> np.ndarray:
    """Unit vectors around ``clusters`` centres: embeddings have structure, random vectors do not."""
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    points = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dim)).astype(
        np.float32
    )
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def clustered_like(matrix: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Held-out queries from the same clusters: new points near stored ones, never copies.

    The standard way to measure approximate search (ann-benchmarks): a query's true
    nearest neighbour is close, but not a near-duplicate that any index finds.
    """
    picked = matrix[rng.integers(0, matrix.shape[0], n)]
    noise = rng.standard_normal(picked.shape).astype(np.float32) / np.sqrt(picked.shape[1])
    q = picked + 0.5 * noise  # noise of length ~0.5 on a unit vector: cosine ~0.9 to its source
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def vector_search(
    url: str, schema: str, sizes: Sequence[int], quick: bool
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    import psycopg

    rng = np.random.default_rng(7)
    n_queries = 50 if quick else 200
    data: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    rows: list[Sequence[object]] = []
    for size in sizes:
        matrix = clustered(size, DIM, rng)
        queries = clustered_like(matrix, n_queries, rng)
        data[size] = (matrix, queries)
        truth = np.argmax(queries @ matrix.T, axis=1)  # numpy's exact answer, by row
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"truncate {schema}.cache_entries restart identity")
            for (name,) in conn.execute(
                "select indexname from pg_indexes where schemaname = %s and indexname ~ '_(hnsw|ivfflat)_'",
                (schema,),
            ).fetchall():
                conn.execute(f"drop index {schema}.{name}")
        lists = max(10, size // 1000)  # pgvector's advice: rows / 1000 up to 1M rows
        probes = round(lists**0.5)  # and sqrt(lists) probes for a start
        configs: list[tuple[str, dict[str, Any]]] = [
            ("exact (seq scan)", {"index": "exact"}),
            (f"IVFFlat lists={lists}, probes=1", {"index": "ivfflat", "ivfflat_lists": lists}),
            (
                f"IVFFlat lists={lists}, probes={probes}",
                {"index": "ivfflat", "ivfflat_lists": lists, "ivfflat_probes": probes},
            ),
            ("HNSW m=16 ef_construction=64, ef_search=40", {"index": "hnsw"}),
            ("HNSW, ef_search=100", {"index": "hnsw", "hnsw_ef_search": 100}),
        ]  # HNSW last: part 3 searches with the index left in place
        with PostgresStore(url, schema=schema, apply_schema=False) as loader:
            start = time.perf_counter()
            loader.load(
                "bench",
                [NewEntry(str(i), row, "v", expires_at=1e12) for i, row in enumerate(matrix)],
            )
            load_s = time.perf_counter() - start
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"vacuum analyze {schema}.cache_entries")
        rows.append([size, "COPY load", fmt(load_s), "-", "-"])
        built: set[str] = set()
        for name, options in configs:
            with PostgresStore(url, schema=schema, apply_schema=False, **options) as store:
                build = "-"
                if options["index"] != "exact" and options["index"] not in built:
                    store.drop_indexes(DIM)  # one kind at a time: both index the same expression
                    start = time.perf_counter()
                    store.create_index(DIM, build_memory="512MB")
                    build = fmt(time.perf_counter() - start)
                    built.add(options["index"])
                found: list[int] = []
                for q in queries[:20]:
                    store.search("bench", q)  # warm-up: index pages into memory, plans

                def top1(q: Any, store: Any = store, found: list[int] = found) -> None:
                    hits = store.search("bench", q)
                    found.append(int(hits[0].query) if hits else -1)

                rec = time_each(top1, list(queries))
                recall = float(np.mean(np.asarray(found) == truth))
                rows.append([size, name, build, fmt(rec.percentile(50)), f"{recall:.3f}"])
    table(
        f"Vector search, top-1 of {DIM}-dim vectors ({n_queries} queries)",
        ["rows", "search", "build", "P50", "recall@1"],
        rows,
    )
    return data


# ------------------------------------------------------------------ 3. store lookups
def store_lookups(
    url: str, schema: str, data: dict[int, tuple[np.ndarray, np.ndarray]], quick: bool
) -> None:
    import psycopg

    n = 50 if quick else 200
    rows: list[Sequence[object]] = []
    folder = Path(tempfile.mkdtemp(prefix="perflab-bench-"))
    try:
        for size, (matrix, queries) in data.items():
            entries = [NewEntry(str(i), row, "v", expires_at=1e12) for i, row in enumerate(matrix)]
            memory = MemoryStore()
            memory.add_many("bench", entries)
            sqlite = SQLiteStore(folder / f"cache-{size}.sqlite")
            sqlite.add_many("bench", entries)
            with psycopg.connect(
                url, autocommit=True
            ) as conn:  # the table from part 2 holds these rows
                count = conn.execute(f"select count(*) from {schema}.cache_entries").fetchone()
            assert count is not None and count[0] == size
            stores: list[tuple[str, Any]] = [
                ("MemoryStore (numpy)", memory),
                ("SQLiteStore (numpy index)", sqlite),
                ("PostgresStore exact", PostgresStore(url, schema=schema, apply_schema=False)),
                (
                    "PostgresStore HNSW",
                    PostgresStore(url, schema=schema, index="hnsw", apply_schema=False),
                ),
            ]
            for name, store in stores:
                it = iter(np.resize(np.arange(len(queries)), n + 3))
                rec = time_calls(
                    lambda store=store, it=it, qs=queries: store.search(
                        "bench", qs[next(it)], now=1.0
                    ),
                    n,
                )
                rows.append([size, name, fmt(rec.percentile(50)), fmt(rec.percentile(95))])
                store.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    table("Store lookups: search(k=1, now=...) per call", ["rows", "store", "P50", "P95"], rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big", action="store_true", help="also measure 10^5 vectors (slow)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--rtt", type=float, default=DEFAULT_RTT, help="proxy round-trip time in seconds"
    )
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.big else [10_000]

    url = os.environ.get("DATABASE_URL", "").strip()
    folder: Path | None = None
    server: EmbeddedPostgres | None = None
    if not url:
        problem = pgserver_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            return 2
        folder = Path(tempfile.mkdtemp(prefix="perflab-pg-"))
        server = EmbeddedPostgres(folder / "pgdata")
        url = server.start()
    schema = "perflab_bench"
    import psycopg

    print(
        f"perflab benchmarks/db.py: {'DATABASE_URL' if server is None else 'embedded PostgreSQL'}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    try:
        migrate(url, schema=schema)
        with psycopg.connect(url) as conn:
            print("server:", conn.execute("select version()").fetchone()[0].split(",")[0])  # type: ignore[index]
        asyncio.run(connections(url, args.rtt, args.quick))
        data = vector_search(url, schema, sizes, args.quick)
        store_lookups(url, schema, {sizes[-1]: data[sizes[-1]]}, args.quick)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"drop schema if exists {schema} cascade")
        if server is not None:
            server.stop(mode="immediate")
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
