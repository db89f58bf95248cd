"""``SQLiteStore``: cache entries in one SQLite file, searched from a numpy matrix.

The file is the truth; a ``VectorIndex`` (one float32 matrix per namespace) is kept in
step with it, so a lookup is one matrix-vector product rather than a scan of blobs.
Every write is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``) and the matrix
changes only after the commit succeeds, so a failed write leaves file and matrix as
they were. The file runs in WAL mode: readers in other processes (``perflab cache
stats``) never block a writer. When another process commits (``PRAGMA data_version``
moves), the matrix is rebuilt from the file before the next search.

Opening refuses, with ``CacheFileError`` and without writing a byte, a file that is
not SQLite, is corrupted, is someone else's database, or has a newer schema. A file of
an older schema version is migrated in place, in one transaction (all steps or none).

The schema, its versions and the migrations are in ``_sqlite_file.py``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np

from perflab.arrays import FloatArray
from perflab.cache._index import IndexKind, IndexStats, VectorIndex
from perflab.cache.store import (
    BufferedStore,
    Entry,
    LoggedLookup,
    Neighbour,
    NewEntry,
    check_entries,
)
from perflab.cache.stores._sqlite_file import (
    APP,
    APPLICATION_ID,
    FIX,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    inspect_cache_file,
)
from perflab.errors import CacheFileError

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "SQLiteStore", "inspect_cache_file"]


class SQLiteStore(BufferedStore):
    """A ``VectorStore`` in a SQLite file (WAL), with an in-memory matrix for search.

    Args:
        path: the cache file; created (with its folder) if missing.
        counter_flush_every: lookups' counter updates are buffered and written after
            this many ``incr`` calls (and on any other write, ``counters()`` and
            ``close()``); 1 writes every time. A crash loses at most that many.
        timeout: seconds to wait for another process's write lock.
        index: ``"exact"`` or ``"ivf"`` search over the in-memory matrix (see
            ``VectorIndex``). With IVF, a rebuild (first search, or after another
            process wrote) also runs k-means: about a second at 10^5 x 384.
        nprobe: IVF lists scanned per search.
        ivf_min_entries: namespace size from which IVF is used.
        log_size: lookups kept per namespace in the lookup log (0 keeps none). A
            logged lookup is buffered with its counter update and written in the same
            transaction.

    Raises:
        CacheFileError: the file exists and is not a usable perflab cache.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        counter_flush_every: int = 1,
        timeout: float = 5.0,
        index: IndexKind = "exact",
        nprobe: int = 8,
        ivf_min_entries: int = 10_000,
        log_size: int = 10_000,
    ) -> None:
        if log_size < 0:
            raise ValueError(f"log_size ({log_size}) must be >= 0")
        self.log_size = log_size
        super().__init__(counter_flush_every)  # the counter buffer and the lock
        self._pending_log: list[tuple[str, LoggedLookup]] = []
        # Built now to validate the knobs early; the real one is built from the file.
        self._new_index = partial(
            VectorIndex, index, nprobe=nprobe, ivf_min_entries=ivf_min_entries
        )
        self._index_kind = self._new_index().kind
        self.path = Path(path).expanduser()
        is_new = inspect_cache_file(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Built on first search/add, so `perflab cache stats` on a big file stays instant.
        self._index: VectorIndex | None = None
        self._data_version = -1
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(self.path), isolation_level=None, timeout=timeout, check_same_thread=False
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "PRAGMA synchronous=NORMAL"
            )  # WAL: durable at checkpoints, never corrupt
            if is_new:
                with self._write() as conn:
                    for statement in SCHEMA:
                        conn.execute(statement)
                    conn.execute("INSERT INTO perflab_schema VALUES (?, ?)", (APP, SCHEMA_VERSION))
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            else:
                self._migrate()
            self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            self._conn = None
            raise CacheFileError(
                f"{self.path} could not be read as a cache ({exc}); {FIX}"
            ) from exc

    def _migrate(self) -> None:
        """Bring an older file up to ``SCHEMA_VERSION``: every step in one transaction.

        The version is read again under the write lock, so two processes opening the
        same old file migrate it once.
        """
        with self._write() as conn:
            (version,) = conn.execute(
                "SELECT version FROM perflab_schema WHERE app = ?", (APP,)
            ).fetchone()
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                version += 1
            conn.execute("UPDATE perflab_schema SET version = ? WHERE app = ?", (version, APP))

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._conn is None

    def where(self) -> str:
        """The file."""
        return str(self.path)

    @property
    def _db(self) -> sqlite3.Connection:
        self.check_open()
        assert self._conn is not None
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: commit if the block succeeds, roll back if it raises."""
        conn = self._db
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            self._flush_pending(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _loaded(self) -> VectorIndex:
        """The matrix, (re)built from the file if it is missing or another process wrote."""
        self._sync()
        if self._index is None:
            try:
                self._index = self._reload()
            except sqlite3.DatabaseError as exc:
                raise CacheFileError(
                    f"{self.path} could not be read as a cache ({exc}); {FIX}"
                ) from exc
        return self._index

    def _reload(self) -> VectorIndex:
        """Read every vector from the file into a fresh index."""
        conn = self._db
        self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        index = self._new_index()
        rows = conn.execute(
            "SELECT namespace, id, vector, expires_at FROM entries ORDER BY namespace, id"
        )
        batch: list[tuple[str, int, bytes, float]] = []
        for row in [*rows, None]:
            if batch and (row is None or row[0] != batch[0][0]):
                matrix = np.frombuffer(b"".join(r[2] for r in batch), dtype="<f4").reshape(
                    len(batch), -1
                )
                index.add(
                    batch[0][0],
                    [r[1] for r in batch],
                    matrix.astype(np.float32),
                    [r[3] for r in batch],
                )
                batch = []
            if row is not None:
                batch.append(row)
        return index

    def _sync(self) -> None:
        """Drop the matrix if another connection committed since we last looked."""
        if self._index is not None:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                self._index = None

    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries in one transaction: all of them, or (on any error) none."""
        with self._lock:
            index = self._loaded()
            check_entries(entries)
            matrix = index.check(namespace, [e.vector for e in entries])
            ids: list[int] = []
            with self._write() as conn:
                for entry, row in zip(entries, matrix):
                    cursor = conn.execute(
                        "INSERT INTO entries (namespace, query, dim, vector, value, intent, created_at, expires_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            namespace,
                            entry.query,
                            row.shape[0],
                            row.astype("<f4").tobytes(),
                            entry.value,
                            entry.intent,
                            float(entry.created_at),
                            float(entry.expires_at),
                        ),
                    )
                    ids.append(int(cursor.lastrowid or 0))
            index.add(namespace, ids, matrix, [float(e.expires_at) for e in entries])
            return ids

    def search(
        self, namespace: str, vector: FloatArray, k: int = 1, *, now: float | None = None
    ) -> list[Neighbour]:
        """Return up to ``k`` nearest entries, best first; the value column is never read."""
        with self._lock:
            found = self._loaded().search(namespace, vector, k, now=now)
            if not found:
                return []
            marks = ",".join("?" * len(found))
            rows = self._db.execute(
                f"SELECT id, query, intent, created_at, expires_at FROM entries WHERE id IN ({marks})",
                [entry_id for entry_id, _ in found],
            ).fetchall()
            meta = {r[0]: r for r in rows}
            return [
                Neighbour(i, s, meta[i][1], meta[i][2], meta[i][3], meta[i][4])
                for i, s in found
                if i in meta
            ]

    def get(self, entry_id: int) -> Entry | None:
        """Return the entry with its value, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, namespace, query, vector, value, intent, created_at, expires_at"
                " FROM entries WHERE id = ?",
                (entry_id,),
            ).fetchone()
        if row is None:
            return None
        vector = np.frombuffer(row[3], dtype="<f4").astype(np.float32)
        return Entry(row[0], row[1], row[2], vector, row[4], row[5], row[6], row[7])

    def touch(self, entry_id: int, expires_at: float) -> bool:
        """Set an entry's expiry; ``False`` if it is gone."""
        with self._lock:
            self._sync()
            with self._write() as conn:
                changed = conn.execute(
                    "UPDATE entries SET expires_at = ? WHERE id = ?", (float(expires_at), entry_id)
                ).rowcount
            if changed and self._index is not None:
                self._index.set_expiry(entry_id, float(expires_at))
            return bool(changed)

    def delete_expired(self, now: float) -> int:
        """Delete entries stale at ``now``; return how many."""
        with self._lock:
            self._sync()
            with self._write() as conn:
                gone = [
                    r[0]
                    for r in conn.execute(
                        "DELETE FROM entries WHERE expires_at <= ? RETURNING id", (now,)
                    )
                ]
            for entry_id in gone:
                if self._index is not None:
                    self._index.remove(entry_id)
            return len(gone)

    def clear(self, namespace: str | None = None) -> int:
        """Delete a namespace's entries (all when ``None``); return how many."""
        with self._lock:
            self._sync()
            with self._write() as conn:
                if namespace is None:
                    gone = conn.execute("DELETE FROM entries").rowcount
                else:
                    gone = conn.execute(
                        "DELETE FROM entries WHERE namespace = ?", (namespace,)
                    ).rowcount
            if self._index is not None:
                self._index.clear(namespace)
            return int(gone)

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._lock:
            return int(self._db.execute(sql, params).fetchone()[0])

    def count(self, namespace: str | None = None) -> int:
        """Number of entries in ``namespace`` (all when ``None``)."""
        if namespace is None:
            return self._scalar("SELECT COUNT(*) FROM entries")
        return self._scalar("SELECT COUNT(*) FROM entries WHERE namespace = ?", (namespace,))

    def count_stale(self, now: float, namespace: str | None = None) -> int:
        """Number of entries stale at ``now``."""
        if namespace is None:
            return self._scalar("SELECT COUNT(*) FROM entries WHERE expires_at <= ?", (now,))
        return self._scalar(
            "SELECT COUNT(*) FROM entries WHERE namespace = ? AND expires_at <= ?", (namespace, now)
        )

    def namespaces(self) -> dict[str, int]:
        """Entry count per namespace."""
        with self._lock:
            rows = self._db.execute("SELECT namespace, COUNT(*) FROM entries GROUP BY namespace")
            return {r[0]: int(r[1]) for r in rows}

    def size_bytes(self) -> int:
        """Bytes on disk: the file plus its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return sum(p.stat().st_size for p in (self.path, wal) if p.exists())

    def _flush_pending(self, conn: sqlite3.Connection) -> None:
        """Write buffered counters and logged lookups inside the caller's transaction."""
        if self._pending:
            conn.executemany(
                "INSERT INTO counters (namespace, name, value) VALUES (?, ?, ?)"
                " ON CONFLICT (namespace, name) DO UPDATE SET value = value + excluded.value",
                self._pending.rows(),
            )
        if self._pending_log:
            conn.executemany(
                "INSERT INTO lookups (namespace, query, similarity, threshold, hit, intent,"
                " matched_intent, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ns,
                        r.query,
                        r.similarity,
                        r.threshold,
                        int(r.hit),
                        r.intent,
                        r.matched_intent,
                        r.at,
                    )
                    for ns, r in self._pending_log
                ],
            )
            # Keep the newest log_size rows: delete from the (log_size + 1)-th newest down.
            conn.executemany(
                "DELETE FROM lookups WHERE namespace = ? AND id <= (SELECT id FROM lookups"
                " WHERE namespace = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                [(ns, ns, self.log_size) for ns in {ns for ns, _ in self._pending_log}],
            )
        self._pending.clear()
        self._pending_log.clear()

    def _has_pending(self) -> bool:
        return bool(self._pending or self._pending_log)

    def _write_pending(self) -> None:
        with self._write():
            pass  # _write flushes the buffers inside the transaction

    def _read_counters(self, namespace: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT name, value FROM counters WHERE namespace = ?", (namespace,)
        )
        return {r[0]: int(r[1]) for r in rows}

    def _delete_counters(self, namespace: str | None) -> None:
        with self._write() as conn:
            if namespace is None:
                conn.execute("DELETE FROM counters")
            else:
                conn.execute("DELETE FROM counters WHERE namespace = ?", (namespace,))

    def log_lookup(self, namespace: str, record: LoggedLookup) -> None:
        """Buffer ``record``; it is written with the next counter flush (same transaction).

        ``SemanticCache`` logs a lookup just before counting it, so with the default
        ``counter_flush_every=1`` each lookup is one transaction: its counters and its
        log row commit together or not at all.
        """
        with self._lock:
            _ = self._db  # raises if closed
            if self.log_size:
                self._pending_log.append((namespace, record))

    def lookup_log(self, namespace: str) -> list[LoggedLookup]:
        """The namespace's logged lookups (pending ones included), oldest first."""
        with self._lock:
            self.flush()
            rows = self._db.execute(
                "SELECT query, similarity, threshold, hit, intent, matched_intent, at"
                " FROM lookups WHERE namespace = ? ORDER BY id",
                (namespace,),
            )
            return [LoggedLookup(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def clear_lookup_log(self, namespace: str | None = None) -> int:
        """Forget the logged lookups of ``namespace`` (all when ``None``); return how many."""
        with self._lock, self._write() as conn:
            self._flush_pending(conn)  # buffered lookups are part of the log too
            if namespace is None:
                gone = conn.execute("DELETE FROM lookups").rowcount
            else:
                gone = conn.execute(
                    "DELETE FROM lookups WHERE namespace = ?", (namespace,)
                ).rowcount
            return int(gone)

    def index_stats(self) -> IndexStats:
        """What the search index holds (building it from the file if needed)."""
        with self._lock:
            return self._loaded().stats()

    def set_nprobe(self, nprobe: int) -> None:
        """Lists scanned per IVF search from now on (kept across index rebuilds)."""
        with self._lock:
            self._new_index = partial(self._new_index, nprobe=nprobe)
            if self._index is not None:
                self._index.set_nprobe(nprobe)

    def _release(self) -> None:
        assert self._conn is not None
        self._conn.close()
        self._conn = None

    def __repr__(self) -> str:
        if self._conn is None:
            return f"<SQLiteStore {self.path} [closed]>"
        kind = ", ivf" if self._index_kind == "ivf" else ""
        return f"<SQLiteStore {self.path} [entries {self.count()}{kind}]>"
