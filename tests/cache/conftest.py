"""Fixtures for the cache tests: a ``store`` built by every factory in STORE_FACTORIES.

The store behaviour suite (test_store_contract.py) runs once per factory: the memory
and SQLite stores (exact and IVF), and the real backends, PostgresStore (exact and
HNSW) and SupabaseStore over real HTTP, marked ``postgres``. To run the suite on
another store, add a factory:

    STORE_FACTORIES["mine"] = pytest.param(make_my_store, marks=pytest.mark.postgres)

A factory takes pytest's ``request`` (for ``tmp_path`` or any other fixture, through
``request.getfixturevalue``) and returns a fresh, empty ``VectorStore``; the fixture
closes it after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perflab.cache import MemoryStore, SQLiteStore, VectorStore
from perflab.embedders import HashingEmbedder

StoreFactory = Callable[[pytest.FixtureRequest], VectorStore]


def _tmp(request: pytest.FixtureRequest) -> Path:
    path: Path = request.getfixturevalue("tmp_path")
    return path


def _postgres(index: str) -> StoreFactory:
    def make(request: pytest.FixtureRequest) -> VectorStore:
        from perflab.backends.postgres import PostgresStore
        from tests import _pg

        url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
        _pg.truncate(url, schema)
        return PostgresStore(url, schema=schema, index=index, apply_schema=False)  # type: ignore[arg-type]

    return make


def _supabase(request: pytest.FixtureRequest) -> VectorStore:
    from perflab.backends.supabase_store import SupabaseStore
    from tests import _pg
    from tests.backends.conftest import SUPABASE_TEST_KEY

    url, schema = request.getfixturevalue("pg_url"), request.getfixturevalue("pg_schema")
    postgrest = request.getfixturevalue("postgrest")
    _pg.truncate(url, schema)
    return SupabaseStore(postgrest.url, SUPABASE_TEST_KEY)


STORE_FACTORIES: dict[str, Any] = {
    "memory": lambda request: MemoryStore(),
    "sqlite": lambda request: SQLiteStore(_tmp(request) / "cache.sqlite"),
}

# IVF mode (perflab/cache/_ivf.py), same suite. Training starts at 2 entries, so every
# test runs through k-means, the inverted lists, swap-removes inside lists and
# retraining as the store grows. nprobe=64 covers every list at these sizes (nlist is
# about sqrt(25) = 5 at most), so answers stay exact and the contract holds as
# written; recall under partial probing is tested in tests/cache/test_ivf.py.
STORE_FACTORIES["memory-ivf"] = lambda request: MemoryStore(
    index="ivf", nprobe=64, ivf_min_entries=2
)
STORE_FACTORIES["sqlite-ivf"] = lambda request: SQLiteStore(
    _tmp(request) / "cache.sqlite", index="ivf", nprobe=64, ivf_min_entries=2
)

# The real backends, same suite: PostgreSQL through psycopg, Supabase through its client
# over HTTP to a PostgREST stand-in backed by the same PostgreSQL.
_PG = pytest.mark.postgres
STORE_FACTORIES["postgres"] = pytest.param(_postgres("exact"), marks=_PG)
STORE_FACTORIES["postgres-hnsw"] = pytest.param(_postgres("hnsw"), marks=_PG)
STORE_FACTORIES["supabase"] = pytest.param(_supabase, marks=_PG)


@pytest.fixture(params=list(STORE_FACTORIES.values()), ids=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    """A fresh, empty store of each kind in STORE_FACTORIES."""
    made: VectorStore = request.param(request)
    yield made
    made.close()


@pytest.fixture(scope="session")
def embedder() -> HashingEmbedder:
    """A small deterministic embedder for cache tests."""
    return HashingEmbedder(dim=64)


def unit(*values: float) -> np.ndarray:
    """A float32 unit vector from the given components."""
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)
