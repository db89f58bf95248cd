"""The ``VectorStore`` protocol, the records it trades in, and a shared numpy index.

A store keeps cache entries and answers one question fast: *which stored vectors are
nearest to this one?* It answers with ids and cosine similarities only. The stored
value (the expensive API answer) is read by ``get(id)``, which the cache calls only
after the threshold says "hit": a miss never reads the value.

Every entry belongs to a namespace (the embedder's ``name``): vectors from different
models are never compared. Times (``created_at``, ``expires_at``, ``now``) are
seconds on the cache's clock; a store never reads a clock itself.

Concrete stores: ``MemoryStore`` and ``SQLiteStore`` here; the PostgreSQL/pgvector
store lives in ``perflab.backends``. One behaviour suite
(``tests/cache/test_store_contract.py``) runs over all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = [
    "Entry",
    "Neighbour",
    "NewEntry",
    "VectorIndex",
    "VectorStore",
    "as_vector",
    "check_entries",
]

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class NewEntry:
    """An entry to add: what the cache hands a store."""

    query: str
    vector: FloatArray = field(repr=False, compare=False)
    value: str = field(repr=False)
    intent: str | None = None
    created_at: float = 0.0
    expires_at: float = float("inf")


@dataclass(frozen=True)
class Entry:
    """A stored entry, value included (what ``get`` returns)."""

    id: int
    namespace: str
    query: str
    vector: FloatArray = field(repr=False, compare=False)
    value: str = field(repr=False)
    intent: str | None
    created_at: float
    expires_at: float

    def is_expired(self, now: float) -> bool:
        """Whether the entry is stale at ``now`` (expiry is exclusive: stale *at* expires_at)."""
        return self.expires_at <= now


@dataclass(frozen=True)
class Neighbour:
    """One search result: an entry's id, similarity and metadata, never its value."""

    id: int
    similarity: float
    query: str
    intent: str | None
    created_at: float
    expires_at: float


@runtime_checkable
class VectorStore(Protocol):
    """Where cache entries live. Methods are synchronous and safe to call from one thread."""

    def add(
        self,
        namespace: str,
        query: str,
        vector: FloatArray,
        value: str,
        *,
        intent: str | None = None,
        created_at: float,
        expires_at: float,
    ) -> int:
        """Store one entry and return its id."""
        ...

    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries all-or-nothing (one transaction) and return their ids in order."""
        ...

    def search(
        self, namespace: str, vector: FloatArray, k: int = 1, *, now: float | None = None
    ) -> list[Neighbour]:
        """Return up to ``k`` nearest entries by cosine similarity, best first.

        With ``now``, entries stale at ``now`` are skipped. The value is not read.
        """
        ...

    def get(self, entry_id: int) -> Entry | None:
        """Return the entry with its value, or ``None`` if it is gone."""
        ...

    def touch(self, entry_id: int, expires_at: float) -> bool:
        """Set an entry's expiry (sliding TTL); ``False`` if it is gone."""
        ...

    def delete_expired(self, now: float) -> int:
        """Delete every entry (any namespace) stale at ``now``; return how many."""
        ...

    def clear(self, namespace: str | None = None) -> int:
        """Delete the entries of ``namespace`` (all when ``None``); return how many."""
        ...

    def count(self, namespace: str | None = None) -> int:
        """Number of entries in ``namespace`` (all when ``None``)."""
        ...

    def count_stale(self, now: float, namespace: str | None = None) -> int:
        """Number of entries stale at ``now``."""
        ...

    def namespaces(self) -> dict[str, int]:
        """Entry count per namespace."""
        ...

    def size_bytes(self) -> int:
        """Storage used: file size on disk, or an estimate of memory."""
        ...

    def incr(self, namespace: str, deltas: Mapping[str, int]) -> None:
        """Add ``deltas`` to the namespace's persisted counters (lookups, hits...)."""
        ...

    def counters(self, namespace: str) -> dict[str, int]:
        """The namespace's counters (missing names read as absent, i.e. 0)."""
        ...

    def reset_counters(self, namespace: str | None = None) -> None:
        """Zero the counters of ``namespace`` (all when ``None``)."""
        ...

    def close(self) -> None:
        """Release files and connections; further use is an error."""
        ...


def check_entries(entries: Sequence[NewEntry]) -> None:
    """Refuse entries whose query or value is not text, before anything is written.

    Raises:
        TypeError: naming the fix (serialise other values, e.g. to JSON).
    """
    for entry in entries:
        if not isinstance(entry.value, str) or not isinstance(entry.query, str):
            raise TypeError(
                f"query and value must be str, got {type(entry.query).__name__} and "
                f"{type(entry.value).__name__} (serialise other values, e.g. with json.dumps)"
            )


def as_vector(vector: npt.ArrayLike, dim: int | None = None) -> FloatArray:
    """Return ``vector`` as a contiguous 1-D float32 array, checking its length.

    Raises:
        ValueError: if it is not 1-D or its length is not ``dim``.
    """
    out = np.ascontiguousarray(vector, dtype=np.float32)
    if out.ndim != 1:
        raise ValueError(f"expected a 1-D vector, got shape {out.shape}")
    if dim is not None and out.shape[0] != dim:
        raise ValueError(f"vector has {out.shape[0]} dimensions, this namespace holds {dim}")
    return out


class _Block:
    """One namespace's vectors: a growable matrix plus ids and expiries, row-aligned."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.n = 0
        self.ids = np.zeros(16, dtype=np.int64)
        self.expires = np.zeros(16, dtype=np.float64)
        self.vectors = np.zeros((16, dim), dtype=np.float32)
        self.row: dict[int, int] = {}

    def _grow(self, need: int) -> None:
        capacity = self.ids.shape[0]
        if need <= capacity:
            return
        new = max(need, capacity * 2)  # doubling: amortised O(1) appends
        self.ids = np.resize(self.ids, new)
        self.expires = np.resize(self.expires, new)
        vectors = np.zeros((new, self.dim), dtype=np.float32)
        vectors[: self.n] = self.vectors[: self.n]
        self.vectors = vectors

    def append(self, ids: Sequence[int], vectors: FloatArray, expires: Sequence[float]) -> None:
        count = len(ids)
        self._grow(self.n + count)
        stop = self.n + count
        self.ids[self.n : stop] = ids
        self.expires[self.n : stop] = expires
        self.vectors[self.n : stop] = vectors
        for offset, entry_id in enumerate(ids):
            self.row[int(entry_id)] = self.n + offset
        self.n = stop

    def remove(self, entry_id: int) -> None:
        # Swap the last row into the hole: O(dim), no reshuffle of the matrix.
        row = self.row.pop(entry_id)
        last = self.n - 1
        if row != last:
            moved = int(self.ids[last])
            self.ids[row] = moved
            self.expires[row] = self.expires[last]
            self.vectors[row] = self.vectors[last]
            self.row[moved] = row
        self.n = last


class VectorIndex:
    """Exact nearest-neighbour search over per-namespace numpy matrices.

    Rows are unit vectors, so one matrix-vector product gives every cosine
    similarity; ``argmax`` (k=1) or ``argpartition`` (k>1) picks the best. Stale rows
    are masked to ``-inf`` before the pick, so the best *servable* entry wins. Stores
    keep one of these in step with their records.
    """

    def __init__(self) -> None:
        self._blocks: dict[str, _Block] = {}
        self._namespace_of: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._namespace_of)

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
        """Append rows; ``vectors`` must come from ``check``."""
        if not ids:
            return
        block = self._blocks.get(namespace)
        if block is None:
            block = self._blocks[namespace] = _Block(vectors.shape[1])
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
            block = self._blocks[namespace]
            block.expires[block.row[entry_id]] = expires_at

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
        out: list[int] = []
        for block in self._blocks.values():
            out.extend(int(i) for i in block.ids[: block.n][block.expires[: block.n] <= now])
        return out

    def search(
        self, namespace: str, vector: npt.ArrayLike, k: int = 1, *, now: float | None = None
    ) -> list[tuple[int, float]]:
        """Return up to ``k`` (id, cosine similarity) pairs, best first."""
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        block = self._blocks.get(namespace)
        if block is None or block.n == 0:
            return []
        query = as_vector(vector, block.dim)
        sims = block.vectors[: block.n] @ query
        if now is not None:
            sims[block.expires[: block.n] <= now] = -np.inf
        if k == 1:
            best = np.array([int(np.argmax(sims))])
        elif k >= block.n:
            best = np.argsort(-sims, kind="stable")
        else:
            top = np.argpartition(-sims, k - 1)[:k]
            best = top[np.argsort(-sims[top], kind="stable")]
        return [
            (int(block.ids[row]), float(sims[row])) for row in best[:k] if np.isfinite(sims[row])
        ]

    def nbytes(self) -> int:
        """Bytes of the live rows (vectors, ids, expiries)."""
        return sum(b.n * (b.dim * 4 + 16) for b in self._blocks.values())
