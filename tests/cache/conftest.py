"""Fixtures for the cache tests: a ``store`` built by every factory in STORE_FACTORIES.

To run the behaviour suite on another store (the PostgreSQL one, say), add a factory:

    STORE_FACTORIES["postgres"] = pytest.param(make_pg_store, marks=pytest.mark.postgres)

A factory takes pytest's ``tmp_path`` and returns a fresh, empty ``VectorStore``;
the fixture closes it after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from perflab.cache import MemoryStore, SQLiteStore, VectorStore
from perflab.embedders import HashingEmbedder

StoreFactory = Callable[[Path], VectorStore]

STORE_FACTORIES: dict[str, Any] = {
    "memory": lambda tmp_path: MemoryStore(),
    "sqlite": lambda tmp_path: SQLiteStore(tmp_path / "cache.sqlite"),
}

# IVF mode (perflab/cache/_ivf.py), same suite. Training starts at 2 entries, so every
# test runs through k-means, the inverted lists, swap-removes inside lists and
# retraining as the store grows. nprobe=64 covers every list at these sizes (nlist is
# about sqrt(25) = 5 at most), so answers stay exact and the contract holds as
# written; recall under partial probing is tested in tests/cache/test_ivf.py.
STORE_FACTORIES["memory-ivf"] = lambda tmp_path: MemoryStore(
    index="ivf", nprobe=64, ivf_min_entries=2
)
STORE_FACTORIES["sqlite-ivf"] = lambda tmp_path: SQLiteStore(
    tmp_path / "cache.sqlite", index="ivf", nprobe=64, ivf_min_entries=2
)


@pytest.fixture(params=list(STORE_FACTORIES.values()), ids=list(STORE_FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """A fresh, empty store of each kind in STORE_FACTORIES."""
    made: VectorStore = request.param(tmp_path)
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
