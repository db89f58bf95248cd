"""IVF, the inverted-file index: search a few clusters instead of every vector.

An exact search reads every stored vector: at 10^5 entries of 384 float32 dimensions
that is 154 MB per query, and memory bandwidth, not arithmetic, sets the time (about
5 ms on the development machine). IVF reads a small slice instead:

1. **Train** a coarse quantiser: k-means splits the vectors into ``nlist`` clusters
   (``nlist`` about sqrt(N), so lists hold about sqrt(N) vectors each). Each cluster
   keeps its centroid, and its members are stored together in an *inverted list*.
2. **Search**: compare the query with the ``nlist`` centroids (cheap: a few hundred
   vectors), then scan only the ``nprobe`` lists whose centroids are nearest. At
   10^5 entries, 316 lists and ``nprobe=8`` that is about 2,500 vectors, 2.5 % of the
   matrix, plus the centroids.
3. **Add**: a new vector joins the list of its nearest centroid. The centroids are
   not moved, so after much growth they describe old data; when the index has grown
   ``retrain_factor`` times since the last training, it is retrained from scratch.

The price is recall: the true nearest neighbour may sit in a list that was not
probed (a query near a cluster boundary), and then IVF returns the best vector *it
saw*. More probes buy recall back with time; ``nprobe == nlist`` is an exact search
with extra steps. How much recall a given ``nprobe`` buys depends on the data: real
embeddings cluster by topic and IVF does well on them, while uniformly random vectors
have no clusters at all, every boundary is near, and recall collapses. Measure on
your own vectors (``benchmarks/engine.py`` prints both cases).

This is what pgvector's ``ivfflat`` index does (``lists`` is ``nlist``,
``ivfflat.probes`` is ``nprobe``; pgvector trains once at ``CREATE INDEX`` and never
retrains, so its docs tell you to build the index after loading data). HNSW, the
other pgvector index, walks a neighbour graph instead: better recall per
microsecond, slower to build, more memory. Lesson 11 compares them.

Expiry is filtered *inside* the probed lists: the answer is the best non-stale entry
among them. If the probed lists hold fewer than ``k`` live entries (say, everything
near the query has expired), the search keeps probing the next-nearest lists until it
has ``k`` or has read them all, so a search never comes back empty while a live
entry exists (pgvector 0.8 calls this an iterative scan).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perflab.arrays import FloatArray
from perflab.cache._flat import FlatBlock, IdArray, SimArray, top_k

__all__ = ["IVFBlock", "IVFParams", "nearest_centroid", "spherical_kmeans"]

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class IVFParams:
    """The knobs of an IVF index.

    Attributes:
        nprobe: lists scanned per search (more: better recall, slower).
        nlist: number of lists; ``None`` picks round(sqrt(N)) at each training.
        min_entries: below this many vectors a namespace is searched exactly (one
            list, no quantiser): small indexes gain nothing from IVF.
        retrain_factor: retrain when the namespace has grown this many times since
            the last training.
        seed: seeds the k-means ``numpy.random.Generator``: same data, same lists.
        train_iters: k-means iterations (it stops early once no vector moves).
        train_per_list: vectors sampled per list to train on (faiss uses up to 256).
    """

    nprobe: int = 8
    nlist: int | None = None
    min_entries: int = 10_000
    retrain_factor: float = 2.0
    seed: int = 0
    train_iters: int = 10
    train_per_list: int = 64

    def __post_init__(self) -> None:
        if self.nprobe < 1:
            raise ValueError(f"nprobe ({self.nprobe}) must be >= 1")
        if self.nlist is not None and self.nlist < 1:
            raise ValueError(f"nlist ({self.nlist}) must be >= 1, or None for sqrt(N)")
        if self.min_entries < 1:
            raise ValueError(f"min_entries ({self.min_entries}) must be >= 1")
        if self.retrain_factor <= 1.0:
            raise ValueError(f"retrain_factor ({self.retrain_factor}) must be > 1")
        if self.train_iters < 1 or self.train_per_list < 1:
            raise ValueError("train_iters and train_per_list must be >= 1")


def nearest_centroid(vectors: FloatArray, centroids: FloatArray, chunk: int = 8192) -> IntArray:
    """Index of each vector's most similar centroid (chunked to bound the temporary)."""
    out = np.empty(vectors.shape[0], dtype=np.intp)
    for start in range(0, vectors.shape[0], chunk):
        out[start : start + chunk] = np.argmax(vectors[start : start + chunk] @ centroids.T, axis=1)
    return out


def spherical_kmeans(
    data: FloatArray, nlist: int, *, iters: int, rng: np.random.Generator
) -> FloatArray:
    """Cluster unit vectors by cosine similarity; return ``nlist`` unit centroids.

    Lloyd's algorithm with centroids renormalised after each step (the mean of unit
    vectors is shorter than 1, and a cosine index compares directions). Starts from
    ``nlist`` distinct random data points; an empty cluster is re-seeded with a
    random point.
    """
    m = data.shape[0]
    centroids = data[rng.choice(m, nlist, replace=False)].copy()
    previous: IntArray | None = None
    for _ in range(iters):
        assign = nearest_centroid(data, centroids)
        if previous is not None and np.array_equal(assign, previous):
            break  # converged: the next step would change nothing
        previous = assign
        counts = np.bincount(assign, minlength=nlist)
        nonempty = np.flatnonzero(counts)
        starts = (np.cumsum(counts) - counts)[nonempty]
        sums = np.add.reduceat(data[np.argsort(assign, kind="stable")], starts, axis=0)
        centroids = centroids.copy()
        centroids[nonempty] = sums
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            centroids[empty] = data[rng.choice(m, empty.size, replace=False)]
        norms = np.linalg.norm(centroids, axis=1, keepdims=True)
        centroids /= np.where(norms > 0, norms, 1.0)
    return centroids


class IVFBlock:
    """One namespace's vectors as inverted lists around k-means centroids.

    Until ``min_entries`` vectors arrive it is one list without centroids, searched
    exactly. The same methods as ``FlatBlock``, so ``VectorIndex`` treats both alike.
    """

    def __init__(self, dim: int, params: IVFParams) -> None:
        self.dim = dim
        self.params = params
        self.n = 0
        self.centroids: FloatArray | None = None
        self.lists: list[FlatBlock] = [FlatBlock(dim)]
        self.list_of: dict[int, int] = {}
        self.trained_entries = 0
        self.trainings = 0

    def append(
        self, ids: Sequence[int] | IdArray, vectors: FloatArray, expires: Sequence[float]
    ) -> None:
        """Add rows to their nearest lists, retraining if the index outgrew its training."""
        id_array = np.asarray(ids, dtype=np.int64)
        expiry = np.asarray(expires, dtype=np.float64)
        if self.centroids is None:
            assign = np.zeros(len(id_array), dtype=np.intp)
        else:
            assign = nearest_centroid(vectors, self.centroids)
        for lst in np.unique(assign):
            sel = assign == lst
            self.lists[lst].append(id_array[sel], vectors[sel], expiry[sel].tolist())
        self.list_of.update(zip(id_array.tolist(), assign.tolist()))
        self.n += len(id_array)
        p = self.params
        if self.n >= p.min_entries and (
            self.centroids is None or self.n >= p.retrain_factor * self.trained_entries
        ):
            self.train()

    def train(self) -> None:
        """(Re)build centroids with k-means on a sample and redistribute every vector."""
        p = self.params
        live = [b for b in self.lists if b.n]
        vectors = np.concatenate([b.vectors[: b.n] for b in live])
        ids = np.concatenate([b.ids[: b.n] for b in live])
        expires = np.concatenate([b.expires[: b.n] for b in live])
        n = vectors.shape[0]
        nlist = min(p.nlist or max(1, round(math.sqrt(n))), n)
        rng = np.random.default_rng(p.seed)
        sample_size = min(n, nlist * p.train_per_list)
        sample = vectors[np.sort(rng.choice(n, sample_size, replace=False))]
        self.centroids = spherical_kmeans(sample, nlist, iters=p.train_iters, rng=rng)
        assign = nearest_centroid(vectors, self.centroids)
        order = np.argsort(assign, kind="stable")
        counts = np.bincount(assign, minlength=nlist)
        bounds = np.concatenate(([0], np.cumsum(counts)))
        self.lists = []
        for lst in range(nlist):
            rows = order[bounds[lst] : bounds[lst + 1]]
            block = FlatBlock(self.dim, capacity=len(rows))
            block.append(ids[rows], vectors[rows], expires[rows].tolist())
            self.lists.append(block)
        self.list_of = dict(zip(ids.tolist(), assign.tolist()))
        self.trained_entries = n
        self.trainings += 1

    def remove(self, entry_id: int) -> None:
        """Drop a row from its list (the centroids stay: they are just points)."""
        self.lists[self.list_of.pop(entry_id)].remove(entry_id)
        self.n -= 1

    def set_expiry(self, entry_id: int, expires_at: float) -> None:
        """Change one row's expiry."""
        self.lists[self.list_of[entry_id]].set_expiry(entry_id, expires_at)

    def expired(self, now: float) -> list[int]:
        """Ids of rows stale at ``now``."""
        return [i for b in self.lists for i in b.expired(now)]

    @property
    def row(self) -> dict[int, int]:
        """Every id held (the keys matter; values are list numbers)."""
        return self.list_of

    def search(self, query: FloatArray, k: int, now: float | None) -> list[tuple[int, float]]:
        """Approximate top-k: scan the ``nprobe`` nearest lists (more if too few are live)."""
        if self.centroids is None:
            return self.lists[0].search(query, k, now)
        order = np.argsort(-(self.centroids @ query))
        id_parts: list[IdArray] = []
        sim_parts: list[SimArray] = []
        probed = live = 0
        for lst in order:
            block = self.lists[lst]
            if block.n == 0:
                continue
            if probed >= self.params.nprobe and live >= k:
                break
            sims = block.similarities(query, now)
            id_parts.append(block.ids[: block.n])
            sim_parts.append(sims)
            probed += 1
            live += block.n if now is None else int(np.count_nonzero(np.isfinite(sims)))
        if not id_parts:
            return []
        return top_k(np.concatenate(id_parts), np.concatenate(sim_parts), k)

    def nbytes(self) -> int:
        """Bytes of the live rows and the centroids."""
        centroids = 0 if self.centroids is None else self.centroids.nbytes
        return sum(b.nbytes() for b in self.lists) + centroids
