"""``MemoryStore``: the vector store that lives in a Python process.

The reference implementation of ``VectorStore`` and the fake the tests use: dicts for
the records, a numpy ``VectorIndex`` for search (exact, or IVF with ``index="ivf"``).
It also keeps the last ``log_size`` lookups of each namespace (a ``LookupLog``).
Nothing survives the process.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from perflab.arrays import FloatArray
from perflab.cache._index import IndexKind, IndexStats, VectorIndex
from perflab.cache.store import Entry, LoggedLookup, Neighbour, NewEntry, StoreBase, check_entries

__all__ = ["MemoryStore"]


@dataclass
class _Record:
    namespace: str
    query: str
    vector: FloatArray
    value: str
    intent: str | None
    created_at: float
    expires_at: float


class MemoryStore(StoreBase):
    """An in-memory ``VectorStore``: vectorised top-k over numpy matrices.

    Search is exact by default. ``index="ivf"`` trades a little recall for speed on
    big namespaces (see ``VectorIndex``): below ``ivf_min_entries`` it is exact anyway.

    Args:
        index: ``"exact"`` or ``"ivf"``.
        nprobe: IVF lists scanned per search.
        ivf_min_entries: namespace size from which IVF is used.
        log_size: lookups kept per namespace in the lookup log (0 keeps none).

    >>> import numpy as np
    >>> store = MemoryStore()
    >>> store.add("ns", "hello", np.array([1.0, 0.0]), "world", created_at=0.0, expires_at=10.0)
    1
    >>> store.search("ns", np.array([1.0, 0.0]))[0].similarity
    1.0
    """

    def __init__(
        self,
        *,
        index: IndexKind = "exact",
        nprobe: int = 8,
        ivf_min_entries: int = 10_000,
        log_size: int = 10_000,
    ) -> None:
        if log_size < 0:
            raise ValueError(f"log_size ({log_size}) must be >= 0")
        self.log_size = log_size
        self._log: dict[str, deque[LoggedLookup]] = {}
        self._records: dict[int, _Record] = {}
        self._index = VectorIndex(index, nprobe=nprobe, ivf_min_entries=ivf_min_entries)
        self._counters: dict[str, Counter[str]] = {}
        self._next_id = 1
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries all-or-nothing: everything is validated before anything is stored."""
        self.check_open()
        check_entries(entries)
        matrix = self._index.check(namespace, [e.vector for e in entries])
        ids = list(range(self._next_id, self._next_id + len(entries)))
        self._next_id += len(entries)
        for entry_id, entry, row in zip(ids, entries, matrix):
            self._records[entry_id] = _Record(
                namespace,
                entry.query,
                row.copy(),
                entry.value,
                entry.intent,
                float(entry.created_at),
                float(entry.expires_at),
            )
        self._index.add(namespace, ids, matrix, [float(e.expires_at) for e in entries])
        return ids

    def search(
        self, namespace: str, vector: FloatArray, k: int = 1, *, now: float | None = None
    ) -> list[Neighbour]:
        """Return up to ``k`` nearest entries, best first, without touching values."""
        self.check_open()
        out = []
        for entry_id, similarity in self._index.search(namespace, vector, k, now=now):
            r = self._records[entry_id]
            out.append(
                Neighbour(entry_id, similarity, r.query, r.intent, r.created_at, r.expires_at)
            )
        return out

    def get(self, entry_id: int) -> Entry | None:
        """Return the entry with its value, or ``None``."""
        self.check_open()
        r = self._records.get(entry_id)
        if r is None:
            return None
        return Entry(
            entry_id,
            r.namespace,
            r.query,
            r.vector.copy(),
            r.value,
            r.intent,
            r.created_at,
            r.expires_at,
        )

    def touch(self, entry_id: int, expires_at: float) -> bool:
        """Set an entry's expiry; ``False`` if it is gone."""
        self.check_open()
        r = self._records.get(entry_id)
        if r is None:
            return False
        r.expires_at = float(expires_at)
        self._index.set_expiry(entry_id, r.expires_at)
        return True

    def delete_expired(self, now: float) -> int:
        """Delete entries stale at ``now``; return how many."""
        self.check_open()
        gone = self._index.expired(now)
        for entry_id in gone:
            del self._records[entry_id]
            self._index.remove(entry_id)
        return len(gone)

    def clear(self, namespace: str | None = None) -> int:
        """Delete a namespace's entries (all when ``None``); return how many."""
        self.check_open()
        gone = [
            i for i, r in self._records.items() if namespace is None or r.namespace == namespace
        ]
        for entry_id in gone:
            del self._records[entry_id]
        self._index.clear(namespace)
        return len(gone)

    def count(self, namespace: str | None = None) -> int:
        """Number of entries in ``namespace`` (all when ``None``)."""
        self.check_open()
        if namespace is None:
            return len(self._records)
        return sum(1 for r in self._records.values() if r.namespace == namespace)

    def count_stale(self, now: float, namespace: str | None = None) -> int:
        """Number of entries stale at ``now``."""
        self.check_open()
        return sum(
            1
            for r in self._records.values()
            if r.expires_at <= now and (namespace is None or r.namespace == namespace)
        )

    def namespaces(self) -> dict[str, int]:
        """Entry count per namespace."""
        self.check_open()
        return dict(Counter(r.namespace for r in self._records.values()))

    def size_bytes(self) -> int:
        """Estimated bytes: vectors twice (records and index), plus the texts."""
        text = sum(
            len(r.query) + len(r.value) + len(r.intent or "") for r in self._records.values()
        )
        return self._index.nbytes() + sum(r.vector.nbytes for r in self._records.values()) + text

    def incr(self, namespace: str, deltas: Mapping[str, int]) -> None:
        """Add ``deltas`` to the namespace's counters."""
        self.check_open()
        self._counters.setdefault(namespace, Counter()).update(deltas)

    def counters(self, namespace: str) -> dict[str, int]:
        """The namespace's counters."""
        self.check_open()
        return dict(self._counters.get(namespace, {}))

    def reset_counters(self, namespace: str | None = None) -> None:
        """Zero the counters of ``namespace`` (all when ``None``)."""
        self.check_open()
        if namespace is None:
            self._counters.clear()
        else:
            self._counters.pop(namespace, None)

    def log_lookup(self, namespace: str, record: LoggedLookup) -> None:
        """Append ``record`` to the namespace's log; the oldest fall off past ``log_size``."""
        self.check_open()
        if self.log_size:
            self._log.setdefault(namespace, deque(maxlen=self.log_size)).append(record)

    def lookup_log(self, namespace: str) -> list[LoggedLookup]:
        """The namespace's logged lookups, oldest first."""
        self.check_open()
        return list(self._log.get(namespace, ()))

    def clear_lookup_log(self, namespace: str | None = None) -> int:
        """Forget the logged lookups of ``namespace`` (all when ``None``); return how many."""
        self.check_open()
        if namespace is None:
            gone = sum(len(log) for log in self._log.values())
            self._log.clear()
            return gone
        return len(self._log.pop(namespace, ()))

    def index_stats(self) -> IndexStats:
        """What the search index holds: kind, entries, IVF lists and trainings."""
        return self._index.stats()

    def set_nprobe(self, nprobe: int) -> None:
        """Lists scanned per IVF search from now on (no retraining)."""
        self._index.set_nprobe(nprobe)

    def close(self) -> None:
        """Drop everything; the store cannot be used afterwards."""
        self._records.clear()
        self._index.clear()
        self._log.clear()
        self._closed = True

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"entries {len(self._records)}"
        kind = ", ivf" if self._index.kind == "ivf" else ""
        return f"<MemoryStore [{state}{kind}]>"
