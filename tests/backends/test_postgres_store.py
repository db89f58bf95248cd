"""PostgresStore beyond the shared suite: indexes, plans, transactions, errors."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from perflab.backends.postgres import PostgresStore
from perflab.cache import NewEntry
from perflab.errors import ServiceError
from tests import _pg

pytestmark = pytest.mark.postgres


def _vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


@pytest.fixture
def fresh(pg_url: str, pg_schema: str) -> Iterator[None]:
    """Empty tables, and no approximate index left over from another test."""
    import psycopg

    _pg.truncate(pg_url, pg_schema)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        names = conn.execute(
            "select indexname from pg_indexes where schemaname = %s and indexname ~ '_(hnsw|ivfflat)_'",
            (pg_schema,),
        ).fetchall()
        for (name,) in names:
            conn.execute(f"drop index {pg_schema}.{name}")
    yield


def _load(store: PostgresStore, matrix: np.ndarray, namespace: str = "ns") -> list[int]:
    return store.add_many(
        namespace, [NewEntry(str(i), row, "v", expires_at=1e9) for i, row in enumerate(matrix)]
    )


def _analyze(pg_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"analyze {schema}.cache_entries")


def test_hnsw_search_uses_its_index_and_exact_does_not(
    pg_url: str, pg_schema: str, fresh: None
) -> None:
    """EXPLAIN shows an HNSW index scan for index='hnsw' and none for index='exact', on the same table."""
    with PostgresStore(pg_url, schema=pg_schema, index="hnsw", apply_schema=False) as hnsw:
        _load(hnsw, _vectors(2000, 16))
        _analyze(pg_url, pg_schema)
        plan = hnsw.explain("ns", _vectors(1, 16, seed=1)[0])
        assert "cache_entries_hnsw_16" in plan
    with PostgresStore(pg_url, schema=pg_schema, index="exact", apply_schema=False) as exact:
        assert "hnsw" not in exact.explain("ns", _vectors(1, 16, seed=1)[0])


def test_ivfflat_with_every_list_probed_is_exact(pg_url: str, pg_schema: str, fresh: None) -> None:
    """With probes = lists an IVFFlat search visits every cluster, so its top-1 equals the exact one."""
    matrix = _vectors(500, 8)
    queries = _vectors(20, 8, seed=2)
    with PostgresStore(
        pg_url,
        schema=pg_schema,
        index="ivfflat",
        ivfflat_lists=4,
        ivfflat_probes=4,
        apply_schema=False,
    ) as store:
        ids = _load(store, matrix)
        store.rebuild_index(8)  # learn the clusters from the loaded rows
        got = [store.search("ns", q)[0].id for q in queries]
    expected = [ids[int(np.argmax(matrix @ q))] for q in queries]
    assert got == expected


def test_batch_with_mixed_lengths_stores_nothing(pg_url: str, pg_schema: str, fresh: None) -> None:
    """A batch whose vectors differ in length raises ValueError inside the transaction; nothing is kept."""
    with PostgresStore(pg_url, schema=pg_schema, apply_schema=False) as store:
        with pytest.raises(ValueError, match="same length"):
            store.add_many(
                "ns", [NewEntry("a", _vectors(1, 4)[0], "v"), NewEntry("b", _vectors(1, 3)[0], "v")]
            )
        assert store.count() == 0


def test_counters_are_buffered_until_the_flush(pg_url: str, pg_schema: str, fresh: None) -> None:
    """With counter_flush_every=3 the third incr writes; counters() always includes pending ones."""
    with PostgresStore(
        pg_url, schema=pg_schema, counter_flush_every=3, apply_schema=False
    ) as store:
        other = PostgresStore(pg_url, schema=pg_schema, apply_schema=False)
        store.incr("ns", {"hits": 1})
        store.incr("ns", {"hits": 1})
        assert other.counters("ns") == {}
        store.incr("ns", {"hits": 1})
        assert other.counters("ns") == {"hits": 3}
        store.incr("ns", {"hits": 1})
        assert store.counters("ns") == {"hits": 4}
        other.close()


def test_stats_and_repr_show_live_state(pg_url: str, pg_schema: str, fresh: None) -> None:
    """stats() counts searches and writes; repr shows the index, the pool and no password."""
    with PostgresStore(pg_url, schema=pg_schema, index="hnsw", apply_schema=False) as store:
        _load(store, _vectors(3, 4))
        store.search("ns", _vectors(1, 4)[0])
        stats = store.stats()
        assert (stats.searches, stats.writes) == (1, 1) and stats.pool_size >= 1
        assert "index hnsw" in repr(store) and "1 searches" in repr(store)
    assert "closed" in repr(store)
    with pytest.raises(RuntimeError, match="closed"):
        store.count()


def test_unreachable_database_raises_service_error() -> None:
    """A database that cannot be reached becomes ServiceError, which the breaker counts as a failure."""
    with pytest.raises(ServiceError, match="could not reach"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=2")


def test_bad_options_are_refused() -> None:
    """Unknown index kinds and non-positive parameters raise ValueError before connecting."""
    with pytest.raises(ValueError, match="index"):
        PostgresStore("postgresql://x@/y", index="lsh")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hnsw_m"):
        PostgresStore("postgresql://x@/y", hnsw_m=0)
    with pytest.raises(ValueError, match="schema name"):
        PostgresStore("postgresql://x@/y", schema="a; drop table x")


def test_load_copies_many_rows_in_one_transaction(pg_url: str, pg_schema: str, fresh: None) -> None:
    """load() bulk-inserts with COPY; the rows are then searchable like added ones."""
    matrix = _vectors(300, 6)
    with PostgresStore(pg_url, schema=pg_schema, apply_schema=False) as store:
        assert (
            store.load(
                "ns", [NewEntry(f"q{i}", row, "v", expires_at=1e9) for i, row in enumerate(matrix)]
            )
            == 300
        )
        assert store.count("ns") == 300
        assert store.search("ns", matrix[42])[0].query == "q42"
        with pytest.raises(ValueError, match="dimensions"):
            store.load("ns", [NewEntry("bad", _vectors(1, 5)[0], "v")])
        assert store.count("ns") == 300


def test_drop_indexes_removes_both_kinds(pg_url: str, pg_schema: str, fresh: None) -> None:
    """drop_indexes(dim) removes the HNSW and IVFFlat indexes of that length, and only those."""
    import psycopg

    with PostgresStore(pg_url, schema=pg_schema, index="hnsw", apply_schema=False) as hnsw:
        _load(hnsw, _vectors(50, 4))
        hnsw.create_index(4)
        with PostgresStore(
            pg_url, schema=pg_schema, index="ivfflat", ivfflat_lists=2, apply_schema=False
        ) as ivf:
            ivf.create_index(4)
        hnsw.drop_indexes(4)
    with psycopg.connect(pg_url) as conn:
        left = conn.execute(
            "select count(*) from pg_indexes where schemaname = %s and indexname ~ '_(hnsw|ivfflat)_'",
            (pg_schema,),
        ).fetchone()
    assert left == (0,)
