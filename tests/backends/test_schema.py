"""schema.sql applied for real, and its match_cache_entries function called."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from perflab.backends.postgres import PostgresStore, migrate
from perflab.sql import schema_sql
from tests import _pg

pytestmark = pytest.mark.postgres


def _unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def pg_store(pg_url: str, pg_schema: str) -> Iterator[PostgresStore]:
    """An empty exact PostgresStore in the session's schema."""
    _pg.truncate(pg_url, pg_schema)
    with PostgresStore(pg_url, schema=pg_schema, apply_schema=False) as made:
        yield made


def _match(
    pg_url: str,
    schema: str,
    vector: np.ndarray,
    threshold: float,
    count: int,
    namespace: str,
    now: float | None = None,
) -> list[tuple[int, float, str]]:
    import psycopg
    from pgvector.psycopg import register_vector

    with psycopg.connect(
        pg_url, autocommit=True, options=f"-c search_path={schema},public"
    ) as conn:
        register_vector(conn)
        rows = conn.execute(
            "select id, similarity, query from match_cache_entries(%s, %s, %s, %s, %s)",
            (vector, threshold, count, namespace, now),
        ).fetchall()
    return [(int(r[0]), round(float(r[1]), 5), r[2]) for r in rows]


def test_schema_is_plain_sql_without_placeholders() -> None:
    """The shipped SQL has no template markers, so it can be pasted into Supabase's SQL editor."""
    sql = schema_sql()
    assert "match_cache_entries" in sql and "create extension if not exists vector" in sql
    assert "{{" not in sql and ":dim" not in sql


def test_migrate_is_idempotent(pg_url: str, pg_schema: str) -> None:
    """Applying the schema again changes nothing and raises nothing."""
    migrate(pg_url, schema=pg_schema)
    migrate(pg_url, schema=pg_schema)


def test_match_function_agrees_with_the_store(
    pg_url: str, pg_schema: str, pg_store: PostgresStore
) -> None:
    """match_cache_entries returns the same ids and similarities, best first, as store.search."""
    ids = [
        pg_store.add("ns", q, v, "value", created_at=0.0, expires_at=100.0)
        for q, v in [("a", _unit(1, 0, 0)), ("b", _unit(1, 1, 0)), ("c", _unit(0, 0, 1))]
    ]
    got = _match(pg_url, pg_schema, _unit(1, 0, 0), -1.0, 3, "ns")
    expected = [
        (h.id, round(h.similarity, 5), h.query) for h in pg_store.search("ns", _unit(1, 0, 0), k=3)
    ]
    assert got == expected and [g[0] for g in got] == ids


def test_match_function_applies_threshold_namespace_and_expiry(
    pg_url: str, pg_schema: str, pg_store: PostgresStore
) -> None:
    """Below-threshold, other-namespace and stale entries are left out."""
    near = pg_store.add("ns", "near", _unit(1, 0.1, 0), "v", created_at=0.0, expires_at=100.0)
    pg_store.add("ns", "far", _unit(0, 1, 0), "v", created_at=0.0, expires_at=100.0)
    pg_store.add("ns", "stale", _unit(1, 0, 0), "v", created_at=0.0, expires_at=5.0)
    pg_store.add("other", "same", _unit(1, 0, 0), "v", created_at=0.0, expires_at=100.0)
    got = _match(pg_url, pg_schema, _unit(1, 0, 0), 0.8, 5, "ns", now=10.0)
    assert [g[0] for g in got] == [near]
    assert (
        len(_match(pg_url, pg_schema, _unit(1, 0, 0), 0.8, 5, "ns")) == 2
    )  # without now, stale counts


def test_match_function_handles_any_embedding_length(
    pg_url: str, pg_schema: str, pg_store: PostgresStore
) -> None:
    """One table serves 256- and 384-dimension embedders side by side."""
    rng = np.random.default_rng(0)
    for dim in (256, 384):
        v = rng.standard_normal(dim).astype(np.float32)
        v /= np.linalg.norm(v)
        entry = pg_store.add(f"model/{dim}", "q", v, "v", created_at=0.0, expires_at=1e9)
        assert _match(pg_url, pg_schema, v, 0.99, 1, f"model/{dim}") == [(entry, 1.0, "q")]
