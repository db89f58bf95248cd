"""``VectorIndex``: the numpy nearest-neighbour search the in-process stores share.

``MemoryStore`` and ``SQLiteStore`` keep one of these in step with their records, so a
search is a matrix-vector product in memory whatever the storage behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from perflab.arrays import FloatArray
from perflab.cache._flat import FlatBlock
from perflab.cache._ivf import IVFBlock, IVFParams
from perflab.cache.store import as_vector

__all__ = ["IVFParams", "IndexKind", "IndexStats", "VectorIndex"]


IndexKind = Literal["exact", "ivf"]


@dataclass(frozen=True)
class IndexStats:
    """What a ``VectorIndex`` holds and how it searches.

    Attributes:
        kind: ``"exact"`` or ``"ivf"``.
        nprobe: lists scanned per search (IVF; 0 for exact).
        namespaces: namespaces with vectors.
        entries: vectors held, all namespaces.
        trained_namespaces: namespaces searched through IVF lists (big enough to train).
        lists: inverted lists over all trained namespaces.
        trainings: k-means trainings run (first trainings and retrainings).
        nbytes: bytes of vectors, ids, expiries and centroids.
    """

    kind: str
    nprobe: int
    namespaces: int
    entries: int
    trained_namespaces: int
    lists: int
    trainings: int
    nbytes: int


class VectorIndex:
    """Nearest-neighbour search over per-namespace numpy matrices, exact or IVF.

    Rows are unit vectors, so a matrix-vector product gives cosine similarities;
    ``argmax`` (k=1) or ``argpartition`` (k>1) picks the best. Stale rows are masked
    to ``-inf`` before the pick, so the best *servable* entry wins. Stores keep one of
    these in step with their records.

    ``index="exact"`` (the default) reads every vector of the namespace: always the
    true nearest entry, and a time proportional to N x dim (5 ms at 10^5 x 384 here:
    154 MB read per query). ``index="ivf"`` clusters a namespace once it holds
    ``ivf_min_entries`` vectors and scans only the ``nprobe`` nearest clusters: well
    under a millisecond at 10^5, but approximate. A cache then sometimes misses an
    entry it could have hit, or serves the second-best match: recall@1 is the share
    of lookups where IVF finds the exact answer, and it depends on how clustered the
    vectors are (see ``perflab.cache._ivf``, which also explains pgvector's IVFFlat).

    Args:
        index: ``"exact"`` or ``"ivf"``.
        nprobe: lists scanned per IVF search.
        ivf_min_entries: a namespace smaller than this is searched exactly even with
            ``index="ivf"``.
        nlist: IVF lists per namespace; ``None`` means round(sqrt(N)) at each training.
        seed: seeds k-means, so the same vectors give the same lists.

    Raises:
        ValueError: an unknown ``index`` or an out-of-range knob (see ``IVFParams``).
    """

    def __init__(
        self,
        index: IndexKind = "exact",
        *,
        nprobe: int = 8,
        ivf_min_entries: int = 10_000,
        nlist: int | None = None,
        seed: int = 0,
    ) -> None:
        if index not in ("exact", "ivf"):
            raise ValueError(f"index must be 'exact' or 'ivf', got {index!r}")
        self.kind: IndexKind = index
        self.params = IVFParams(nprobe=nprobe, nlist=nlist, min_entries=ivf_min_entries, seed=seed)
        self._blocks: dict[str, FlatBlock | IVFBlock] = {}
        self._namespace_of: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._namespace_of)

    def set_nprobe(self, nprobe: int) -> None:
        """Change the lists scanned per IVF search, without retraining.

        The knob pgvector exposes as ``SET ivfflat.probes``: trade recall for time
        per session, on the same lists.
        """
        self.params = replace(self.params, nprobe=nprobe)
        for block in self._blocks.values():
            if isinstance(block, IVFBlock):
                block.params = self.params

    def dim(self, namespace: str) -> int | None:
        """The namespace's vector length, or ``None`` if it holds nothing yet."""
        block = self._blocks.get(namespace)
        return block.dim if block is not None else None

    def check(self, namespace: str, vectors: Sequence[npt.ArrayLike]) -> FloatArray:
        """Validate vectors for ``namespace`` and stack them into an ``(n, dim)`` matrix."""
        dim = self.dim(namespace)
        rows = [as_vector(v, dim) for v in vectors]
        if not rows:
            return np.zeros((0, dim or 0), dtype=np.float32)
        if dim is None and len({r.shape[0] for r in rows}) != 1:
            raise ValueError("vectors added together must all have the same length")
        return np.stack(rows)

    def add(
        self, namespace: str, ids: Sequence[int], vectors: FloatArray, expires: Sequence[float]
    ) -> None:
        """Append rows; ``vectors`` must come from ``check``.

        With IVF, an add that takes the namespace past ``ivf_min_entries`` (or past
        ``retrain_factor`` times its last training) runs k-means first: that one call
        is slow (about a second at 10^5 x 384), the ones around it are not.
        """
        if not ids:
            return
        block = self._blocks.get(namespace)
        if block is None:
            dim = vectors.shape[1]
            block = FlatBlock(dim) if self.kind == "exact" else IVFBlock(dim, self.params)
            self._blocks[namespace] = block
        block.append(ids, vectors, expires)
        for entry_id in ids:
            self._namespace_of[int(entry_id)] = namespace

    def remove(self, entry_id: int) -> None:
        """Drop a row (unknown ids are ignored)."""
        namespace = self._namespace_of.pop(entry_id, None)
        if namespace is not None:
            self._blocks[namespace].remove(entry_id)

    def set_expiry(self, entry_id: int, expires_at: float) -> None:
        """Keep a row's expiry in step with a ``touch``."""
        namespace = self._namespace_of.get(entry_id)
        if namespace is not None:
            self._blocks[namespace].set_expiry(entry_id, expires_at)

    def clear(self, namespace: str | None = None) -> None:
        """Forget one namespace, or everything."""
        if namespace is None:
            self._blocks.clear()
            self._namespace_of.clear()
            return
        block = self._blocks.pop(namespace, None)
        if block is not None:
            for entry_id in block.row:
                del self._namespace_of[entry_id]

    def expired(self, now: float) -> list[int]:
        """Ids of rows stale at ``now``, over all namespaces."""
        return [i for block in self._blocks.values() for i in block.expired(now)]

    def search(
        self, namespace: str, vector: npt.ArrayLike, k: int = 1, *, now: float | None = None
    ) -> list[tuple[int, float]]:
        """Return up to ``k`` (id, cosine similarity) pairs, best first.

        Exact: the true top-k. IVF: the top-k of the probed lists, which holds at
        least ``k`` live entries whenever the namespace does.
        """
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        block = self._blocks.get(namespace)
        if block is None or block.n == 0:
            return []
        return block.search(as_vector(vector, block.dim), k, now)

    def nbytes(self) -> int:
        """Bytes of the live rows (vectors, ids, expiries) and any centroids."""
        return sum(b.nbytes() for b in self._blocks.values())

    def stats(self) -> IndexStats:
        """A snapshot of what the index holds (see ``IndexStats``)."""
        ivf = [b for b in self._blocks.values() if isinstance(b, IVFBlock)]
        trained = [b for b in ivf if b.centroids is not None]
        return IndexStats(
            kind=self.kind,
            nprobe=self.params.nprobe if self.kind == "ivf" else 0,
            namespaces=len(self._blocks),
            entries=len(self._namespace_of),
            trained_namespaces=len(trained),
            lists=sum(len(b.lists) for b in trained),
            trainings=sum(b.trainings for b in ivf),
            nbytes=self.nbytes(),
        )

    def __repr__(self) -> str:
        if self.kind == "exact":
            return f"<VectorIndex exact [entries {len(self)}]>"
        s = self.stats()
        return f"<VectorIndex ivf [entries {s.entries}, lists {s.lists}, nprobe {s.nprobe}]>"
