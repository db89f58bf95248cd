"""The IVF index of VectorIndex: recall on clustered data, expiry, deletes, retraining.

The store contract suite runs on IVF stores too (conftest.py); these tests cover what
only IVF has: partial probing, the quantiser and its (re)training. No timings here:
benchmarks/engine.py --only-ivf measures speed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.cache import MemoryStore, NewEntry, SQLiteStore, VectorIndex
from perflab.cache._ivf import IVFParams, spherical_kmeans

DIM = 32


def unit_rows(m: np.ndarray) -> np.ndarray:
    return (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)


def clustered(seed: int, n: int, clusters: int, spread: float = 0.35) -> np.ndarray:
    """``n`` unit vectors around ``clusters`` random centres (topics, like real embeddings)."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(rng.standard_normal((clusters, DIM)))
    picks = rng.integers(0, clusters, n)
    return unit_rows(centres[picks] + spread * rng.standard_normal((n, DIM)) / np.sqrt(DIM) * 4)


def ivf_index(matrix: np.ndarray, **kw: object) -> VectorIndex:
    index = VectorIndex("ivf", **{"ivf_min_entries": 100, "nprobe": 4, **kw})  # type: ignore[arg-type]
    ids = list(range(1, len(matrix) + 1))
    index.add("ns", ids, matrix, [float("inf")] * len(matrix))
    return index


def recall(index: VectorIndex, matrix: np.ndarray, queries: np.ndarray) -> float:
    best = (queries @ matrix.T).max(axis=1)
    got = np.array([index.search("ns", q)[0][1] for q in queries])
    return float(np.mean(got >= best - 1e-5))


def test_recall_on_clustered_data_is_above_the_floor() -> None:
    """On clustered vectors, nprobe=4 of ~45 lists finds the exact top-1 for >= 95 % of queries."""
    matrix = clustered(seed=1, n=2000, clusters=20)
    index = ivf_index(matrix)
    rng = np.random.default_rng(2)
    queries = unit_rows(matrix[rng.integers(0, 2000, 200)] + 0.05 * rng.standard_normal((200, DIM)))
    stats = index.stats()
    assert (stats.lists, stats.trainings) == (45, 1)
    assert recall(index, matrix, queries) >= 0.95


def test_more_probes_never_lose_recall_and_all_probes_are_exact() -> None:
    """Recall grows with nprobe, and nprobe >= nlist gives the exact answer every time."""
    matrix = clustered(seed=3, n=1500, clusters=15)
    index = ivf_index(matrix, nprobe=1)
    queries = unit_rows(np.random.default_rng(4).standard_normal((100, DIM)))
    found = []
    for nprobe in (1, 4, 1000):
        index.set_nprobe(nprobe)
        found.append(recall(index, matrix, queries))
    assert found[0] <= found[1] <= found[2] == 1.0


def test_same_seed_same_lists() -> None:
    """Training is deterministic: the same data and seed give the same answers."""
    matrix = clustered(seed=5, n=600, clusters=8)
    a, b = ivf_index(matrix, seed=7), ivf_index(matrix, seed=7)
    queries = unit_rows(np.random.default_rng(6).standard_normal((30, DIM)))
    assert [a.search("ns", q, 3) for q in queries] == [b.search("ns", q, 3) for q in queries]


def test_small_namespaces_stay_exact() -> None:
    """Below ivf_min_entries a namespace has no quantiser and is searched exactly."""
    index = ivf_index(clustered(seed=8, n=50, clusters=3))
    assert index.stats().trained_namespaces == 0 and index.stats().lists == 0


def test_stale_nearest_gives_best_live_entry_of_the_probed_lists() -> None:
    """When the nearest entry is stale, the next-best live entry (same list) is returned."""
    matrix = clustered(seed=9, n=400, clusters=4, spread=0.1)
    index = VectorIndex("ivf", nprobe=1, ivf_min_entries=100, nlist=4)  # a list per cluster
    expires = [100.0] * 400
    expires[0] = 10.0  # row 0 (id 1) goes stale at 10
    index.add("ns", list(range(1, 401)), matrix, expires)
    query = matrix[0]
    assert index.search("ns", query, now=5.0)[0][0] == 1
    sims = matrix @ query
    sims[0] = -np.inf
    assert index.search("ns", query, now=20.0)[0][0] == int(np.argmax(sims)) + 1


def test_search_probes_further_when_probed_lists_are_all_stale() -> None:
    """If every entry of the probed lists is stale, more lists are probed: a live entry is found."""
    matrix = clustered(seed=10, n=300, clusters=3, spread=0.05)
    index = VectorIndex("ivf", nprobe=1, ivf_min_entries=100, nlist=3)
    query = matrix[0]
    index.add("ns", list(range(1, 301)), matrix, [100.0] * 300)
    top = index.search("ns", query, k=300)
    same_list = [i for i, _ in top if (matrix[i - 1] @ query) > 0.9]
    for entry_id in same_list:
        index.set_expiry(entry_id, 1.0)
    found = index.search("ns", query, now=50.0)
    assert found and found[0][0] not in same_list
    assert len(index.search("ns", query, k=250, now=50.0)) == min(250, 300 - len(same_list))


def test_growth_retrains_and_new_vectors_are_found_meanwhile() -> None:
    """Vectors added after training join their nearest list and are found; 2x growth retrains."""
    matrix = clustered(seed=11, n=800, clusters=8)
    index = VectorIndex("ivf", nprobe=2, ivf_min_entries=200)
    index.add("ns", list(range(1, 201)), matrix[:200], [9.0] * 200)
    assert index.stats().trainings == 1
    for row in range(200, 399):  # one at a time, like cache puts
        index.add("ns", [row + 1], matrix[row : row + 1], [9.0])
        assert index.search("ns", matrix[row])[0][0] == row + 1
    assert index.stats().trainings == 1
    index.add("ns", [400], matrix[399:400], [9.0])
    assert index.stats().trainings == 2 and index.stats().lists == 20


def test_deleted_entries_are_never_returned() -> None:
    """remove and delete_expired take entries out of their lists."""
    matrix = clustered(seed=12, n=500, clusters=5)
    store = MemoryStore(index="ivf", nprobe=2, ivf_min_entries=100)
    expires = [5.0 if i % 2 else 50.0 for i in range(500)]
    ids = store.add_many(
        "ns", [NewEntry(str(i), matrix[i], "v", None, 0.0, e) for i, e in enumerate(expires)]
    )
    assert store.delete_expired(10.0) == 250
    live = {ids[i] for i in range(0, 500, 2)}
    for i in range(1, 500, 2):
        hits = store.search("ns", matrix[i], k=3)
        assert hits and {h.id for h in hits} <= live
    store.clear("ns")
    assert store.search("ns", matrix[0]) == []


def test_sqlite_ivf_rebuilds_from_the_file_with_its_settings(tmp_path: Path) -> None:
    """A reopened SQLiteStore trains its IVF index from the file and keeps set_nprobe."""
    matrix = clustered(seed=13, n=300, clusters=4)
    path = tmp_path / "c.sqlite"
    with SQLiteStore(path, index="ivf", ivf_min_entries=100) as store:
        store.add_many("ns", [NewEntry(str(i), row, "v") for i, row in enumerate(matrix)])
    with SQLiteStore(path, index="ivf", ivf_min_entries=100) as store:
        store.set_nprobe(3)
        stats = store.index_stats()
        assert (stats.kind, stats.nprobe, stats.entries, stats.lists) == ("ivf", 3, 300, 17)
        assert store.search("ns", matrix[7])[0].query == "7"
        assert repr(store).endswith("[entries 300, ivf]>")


def test_bad_settings_are_refused() -> None:
    """An unknown index kind or nprobe < 1 raises ValueError naming the value."""
    with pytest.raises(ValueError, match="'annoy'"):
        VectorIndex("annoy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"nprobe \(0\)"):
        MemoryStore(index="ivf", nprobe=0)
    with pytest.raises(ValueError, match="retrain_factor"):
        IVFParams(retrain_factor=1.0)


def test_repr_shows_lists_and_probes() -> None:
    """repr shows the kind, entries, lists and nprobe."""
    index = ivf_index(clustered(seed=14, n=400, clusters=4))
    assert repr(index) == "<VectorIndex ivf [entries 400, lists 20, nprobe 4]>"
    assert repr(VectorIndex()) == "<VectorIndex exact [entries 0]>"


def test_kmeans_centroids_are_unit_and_cover_clusters() -> None:
    """spherical_kmeans returns unit centroids, one near each well-separated cluster.

    With random starting points two may land in one cluster and leave another without
    (a local optimum, as in faiss); a few more lists than topics covers every topic.
    """
    rng = np.random.default_rng(15)
    centres = unit_rows(rng.standard_normal((5, DIM)))
    data = unit_rows(np.repeat(centres, 40, axis=0) + 0.01 * rng.standard_normal((200, DIM)))
    got = spherical_kmeans(data, 8, iters=20, rng=np.random.default_rng(0))
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (centres @ got.T).max(axis=1).min() > 0.9


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 40),
    nprobe=st.integers(1, 6),
    now=st.floats(0, 12),
)
def test_ivf_results_are_live_true_and_sorted(seed: int, k: int, nprobe: int, now: float) -> None:
    """Any IVF answer lists min(k, live) live entries, best first, with their true similarity."""
    rng = np.random.default_rng(seed)
    matrix = unit_rows(rng.standard_normal((120, DIM)))
    expires = rng.uniform(0, 12, 120)
    index = VectorIndex("ivf", nprobe=nprobe, ivf_min_entries=30)
    index.add("ns", list(range(120)), matrix, expires.tolist())
    query = unit_rows(rng.standard_normal((1, DIM)))[0]
    found = index.search("ns", query, k, now=now)
    live = set(np.flatnonzero(expires > now).tolist())
    assert len(found) == min(k, len(live))
    assert {i for i, _ in found} <= live
    sims = [s for _, s in found]
    assert sims == sorted(sims, reverse=True)
    np.testing.assert_allclose(sims, [float(matrix[i] @ query) for i, _ in found], atol=1e-5)
