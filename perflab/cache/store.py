"""Writing a vector store: the ``VectorStore`` protocol, its records, and the base classes.

This is the store author's API, public and documented (docs/cache.md, "Writing a
store"): ``VectorStore`` says what a store must do; ``StoreBase`` gives ``add`` (a batch
of one), the closed check and ``with store:``; ``BufferedStore`` adds the counters
written in batches through a ``CounterBuffer`` (``incr``, ``counters``,
``reset_counters``, ``flush`` and ``close`` written once for SQLite, PostgreSQL and
Supabase); ``check_entries`` and ``as_vector`` validate input before anything is written.

A store keeps cache entries and answers one question fast: *which stored vectors are
nearest to this one?* It answers with ids and cosine similarities only. The stored
value (the expensive API answer) is read by ``get(id)``, which the cache calls only
after the threshold says "hit": a miss never reads the value.

Every entry belongs to a namespace (the embedder's ``name``): vectors from different
models are never compared. Times (``created_at``, ``expires_at``, ``now``) are
seconds on the cache's clock; a store never reads a clock itself.

Concrete stores: ``MemoryStore`` and ``SQLiteStore`` in ``perflab.cache.stores`` (both
search through the numpy ``VectorIndex`` of ``_index.py``); the PostgreSQL/pgvector and
Supabase stores live in ``perflab.backends``. One behaviour suite
(``tests/cache/test_store_contract.py``) runs over all of them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from perflab.arrays import FloatArray

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "BufferedStore",
    "CounterBuffer",
    "Entry",
    "LoggedLookup",
    "LookupLog",
    "Neighbour",
    "NewEntry",
    "StoreBase",
    "VectorStore",
    "as_vector",
    "check_entries",
]


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


class CounterBuffer:
    """Counter increments waiting to be written, so a busy cache need not write per lookup.

    A store adds each lookup's deltas here; ``add`` says when ``flush_every`` calls have
    gathered and the store should write ``rows()`` (inside its own transaction) and
    ``clear()``. With the default ``flush_every=1`` every lookup is written at once.

    Args:
        flush_every: how many ``add`` calls to gather before a flush (>= 1).
    """

    def __init__(self, flush_every: int = 1) -> None:
        if flush_every < 1:
            raise ValueError(f"counter_flush_every ({flush_every}) must be >= 1")
        self.flush_every = flush_every
        self._deltas: dict[tuple[str, str], int] = {}
        self._calls = 0

    def add(self, namespace: str, deltas: Mapping[str, int]) -> bool:
        """Buffer ``deltas`` for ``namespace``; return True when it is time to flush."""
        for name, n in deltas.items():
            key = (namespace, name)
            self._deltas[key] = self._deltas.get(key, 0) + int(n)
        self._calls += 1
        return self._calls >= self.flush_every

    def rows(self) -> list[tuple[str, str, int]]:
        """The pending increments as ``(namespace, name, delta)`` rows."""
        return [(ns, name, n) for (ns, name), n in self._deltas.items()]

    def clear(self) -> None:
        """Forget the pending increments (after they were written)."""
        self._deltas.clear()
        self._calls = 0

    def drop(self, namespace: str | None) -> None:
        """Forget the pending increments of ``namespace`` (all when ``None``)."""
        self._deltas = {
            key: n
            for key, n in self._deltas.items()
            if namespace is not None and key[0] != namespace
        }

    def __bool__(self) -> bool:
        return bool(self._deltas)

    def __repr__(self) -> str:
        return f"<CounterBuffer [{len(self._deltas)} pending, flush every {self.flush_every}]>"


class StoreBase(ABC):
    """What every concrete store shares: ``add``, the closed check and ``with store:``.

    A store writes batches in one transaction, so a single entry is just a batch of
    one: subclasses implement ``add_many`` and inherit ``add``. They say whether they
    are ``closed``; ``check_open`` turns use after ``close`` into a clear error, and
    ``with store:`` closes the store at the end of the block.
    """

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
        entry = NewEntry(query, vector, value, intent, created_at, expires_at)
        return self.add_many(namespace, [entry])[0]

    @abstractmethod
    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries all-or-nothing (one transaction) and return their ids in order."""

    @property
    @abstractmethod
    def closed(self) -> bool:
        """Whether ``close`` was called."""

    def where(self) -> str:
        """Where the entries live, for messages (a path, a redacted URL); never a secret."""
        return ""

    def check_open(self) -> None:
        """Raise ``RuntimeError`` if the store is closed.

        Raises:
            RuntimeError: "this SQLiteStore (cache.sqlite3) is closed".
        """
        if self.closed:
            where = self.where()
            at = f" ({where})" if where else ""
            raise RuntimeError(f"this {type(self).__name__}{at} is closed")

    @abstractmethod
    def close(self) -> None:
        """Release files and connections; further use is an error (idempotent)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BufferedStore(StoreBase):
    """A store whose counters are buffered in a ``CounterBuffer`` and written in batches.

    A busy cache counts every lookup; writing each count is one transaction (or one
    HTTP request) per lookup. This class gathers ``counter_flush_every`` increments
    before writing them, and writes the rest before counters are read and at
    ``close``, so a count is never lost. Subclasses say how to write and read:

    * ``_write_pending()``: write ``self._pending`` (and anything else buffered), then
      clear it, in one transaction;
    * ``_read_counters(namespace)`` and ``_delete_counters(namespace)``;
    * ``_release()``: close files and connections (called once, by ``close``).

    Args:
        counter_flush_every: lookups counted before one write (>= 1).
    """

    def __init__(self, counter_flush_every: int = 1) -> None:
        self._pending = CounterBuffer(counter_flush_every)  # validates it, before any I/O
        self._lock = threading.RLock()

    def _has_pending(self) -> bool:
        """Whether anything is buffered (subclasses that buffer more extend this)."""
        return bool(self._pending)

    @abstractmethod
    def _write_pending(self) -> None:
        """Write the buffered increments and clear the buffer, in one transaction."""

    @abstractmethod
    def _read_counters(self, namespace: str) -> dict[str, int]:
        """The namespace's counters as stored."""

    @abstractmethod
    def _delete_counters(self, namespace: str | None) -> None:
        """Delete the stored counters of ``namespace`` (all when ``None``)."""

    @abstractmethod
    def _release(self) -> None:
        """Close files and connections (``close`` calls it once)."""

    def flush(self) -> None:
        """Write what is buffered now (``counters`` and ``close`` do it themselves)."""
        with self._lock:
            self.check_open()
            if self._has_pending():
                self._write_pending()

    def incr(self, namespace: str, deltas: Mapping[str, int]) -> None:
        """Add ``deltas`` to the namespace's counters (buffered, see ``counter_flush_every``)."""
        with self._lock:
            self.check_open()
            if self._pending.add(namespace, deltas):
                self._write_pending()

    def counters(self, namespace: str) -> dict[str, int]:
        """The namespace's counters, pending increments included."""
        with self._lock:
            self.flush()
            return self._read_counters(namespace)

    def reset_counters(self, namespace: str | None = None) -> None:
        """Zero the counters of ``namespace`` (all when ``None``)."""
        with self._lock:
            self.check_open()
            self._pending.drop(namespace)
            self._delete_counters(namespace)

    def close(self) -> None:
        """Write pending counters, then release files and connections (idempotent)."""
        with self._lock:
            if self.closed:
                return
            if self._has_pending():
                self._write_pending()
            self._release()


@dataclass(frozen=True)
class LoggedLookup:
    """One lookup as the lookup log keeps it: enough to replay it at another threshold.

    Attributes:
        query: the text looked up.
        similarity: cosine similarity of the best servable entry (``None``: none at all).
        threshold: the threshold in force when it was looked up.
        hit: whether it was served from the cache.
        intent: the query's true intent, when the caller gave one.
        matched_intent: the best entry's intent label, if it has one.
        at: when, in seconds on the cache's clock.
    """

    query: str
    similarity: float | None
    threshold: float
    hit: bool
    intent: str | None = None
    matched_intent: str | None = None
    at: float = 0.0


@runtime_checkable
class LookupLog(Protocol):
    """A store that also keeps the last ``log_size`` lookups of each namespace.

    Optional beside ``VectorStore``: a store without it still works, the cache just
    has no history to replay (``perflab.cache.replay``). A logged lookup is written
    together with the counter update of the same lookup (one transaction, on disk).
    """

    log_size: int

    def log_lookup(self, namespace: str, record: LoggedLookup) -> None:
        """Append ``record``; the oldest are dropped beyond ``log_size`` per namespace."""
        ...

    def lookup_log(self, namespace: str) -> list[LoggedLookup]:
        """The namespace's logged lookups, oldest first."""
        ...

    def clear_lookup_log(self, namespace: str | None = None) -> int:
        """Forget the logged lookups of ``namespace`` (all when ``None``); return how many."""
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
