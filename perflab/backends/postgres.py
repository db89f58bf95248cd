"""``PostgresStore``: cache entries in PostgreSQL, searched by pgvector.

The same ``VectorStore`` as ``MemoryStore`` and ``SQLiteStore`` (it passes their
behaviour suite), on psycopg 3 with a ``psycopg_pool`` connection pool. Each write is
one transaction. The search runs in the database: cosine distance ``<=>`` ordered
ascending, so similarity is ``1 - distance`` (rows are unit vectors).

Exact or approximate, chosen by ``index``: ``"exact"`` compares every row of the
namespace (always right, cost grows with the table); ``"hnsw"`` and ``"ivfflat"`` build
an approximate index per embedding length (faster on big tables, sometimes misses the
true nearest). The index DDL, the search query (and why it is written the way it is),
the insert and ``COPY`` statements are built in ``perflab.backends._pg_sql``; this
module runs them.

The schema (``perflab/sql/schema.sql``) is applied by ``migrate`` (``perflab db
migrate``), or on open with ``apply_schema=True``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.arrays import FloatArray
from perflab.backends._pg_sql import (
    ADD_COUNTERS,
    COPY_ENTRIES,
    COPY_TYPES,
    ENTRY_COLUMNS,
    INSERT_ENTRY,
    IndexKind,
    IndexSpec,
    drop_index_sql,
    entry_rows,
    search_path,
)
from perflab.backends.embedded import check_url, redact_url
from perflab.cache.store import BufferedStore, Entry, Neighbour, NewEntry, as_vector, check_entries
from perflab.errors import BackendUnavailable, ServiceError

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["IndexKind", "PostgresStore", "PostgresStoreStats", "migrate"]


def migrate(url: str, *, schema: str | None = None) -> None:
    """Apply ``perflab/sql/schema.sql`` to the database at ``url`` (idempotent).

    Args:
        url: a PostgreSQL URL (``DATABASE_URL`` or the embedded server's).
        schema: create the tables in this schema (created if missing) instead of the
            connection's default (usually ``public``). Tests use a throwaway schema.

    Raises:
        ConfigError: ``url`` can't be parsed (the message shows no part of it).
    """
    import psycopg
    from psycopg import sql

    from perflab.sql import schema_sql

    check_url(url)
    path = search_path(schema)
    with psycopg.connect(url, autocommit=True) as conn:
        # The extension first, with the default search_path, so it lands in the
        # usual place (public) rather than in a test schema that is dropped later.
        conn.execute("create extension if not exists vector")
        if schema is not None and path is not None:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("set search_path to {}").format(sql.SQL(path)))
        with conn.transaction():
            conn.execute(schema_sql().encode())


@dataclass(frozen=True)
class PostgresStoreStats:
    """Counters of one ``PostgresStore``.

    Attributes:
        searches: ``search`` calls answered.
        writes: write transactions committed (adds, touches, deletes, counter flushes).
        pool_size: connections the pool holds now (in use and idle).
        pool_available: idle connections ready to lend.
        requests_waiting: callers waiting for a connection right now.
    """

    searches: int
    writes: int
    pool_size: int
    pool_available: int
    requests_waiting: int


class PostgresStore(BufferedStore):
    """A ``VectorStore`` in PostgreSQL + pgvector, through a psycopg connection pool.

    Args:
        url: the database URL (see ``perflab.backends.embedded.resolve_database_url``).
        schema: the schema holding the tables (default: the connection's, usually public).
        index: ``"exact"``, ``"hnsw"`` or ``"ivfflat"`` (see ``perflab.backends._pg_sql``).
        hnsw_m: HNSW graph degree (pgvector default 16).
        hnsw_ef_construction: HNSW build-time candidate list (default 64).
        hnsw_ef_search: HNSW search-time candidate list (default 40); more is slower
            and finds the true nearest more often.
        ivfflat_lists: IVFFlat clusters; pgvector suggests rows / 1000 up to 1M rows.
        ivfflat_probes: clusters searched per query (default 1).
        min_size: connections the pool keeps open.
        max_size: connections the pool may open.
        counter_flush_every: buffer counter updates and write them every this many
            ``incr`` calls (1: every time), as ``SQLiteStore`` does.
        apply_schema: apply the schema on open with ``migrate`` (idempotent; needs the
            right to create tables; pass ``False`` when an administrator migrated).
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        index: IndexKind = "exact",
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 64,
        hnsw_ef_search: int = 40,
        ivfflat_lists: int = 100,
        ivfflat_probes: int = 1,
        min_size: int = 1,
        max_size: int = 4,
        counter_flush_every: int = 1,
        apply_schema: bool = True,
    ) -> None:
        spec = IndexSpec(
            index, hnsw_m, hnsw_ef_construction, hnsw_ef_search, ivfflat_lists, ivfflat_probes
        )
        import psycopg
        from psycopg.types import TypeInfo
        from psycopg_pool import ConnectionPool

        self.url = url
        self.schema = schema
        self.index: IndexKind = index
        self._spec = spec
        super().__init__(counter_flush_every)  # the counter buffer and the lock
        self._dims: dict[str, int] = {}
        self._indexed: set[int] = set()
        self._searches = 0
        self._writes = 0
        kwargs: dict[str, Any] = {"autocommit": True}
        path = search_path(schema)
        check_url(url)
        if path is not None:
            kwargs["options"] = f"-c search_path={path.replace(' ', '')}"
        try:
            if apply_schema:
                migrate(url, schema=schema)
            with psycopg.connect(url, **kwargs) as conn:
                # Fetch the vector type once; every pooled connection reuses it (no extra round trip).
                self._vector_info = TypeInfo.fetch(conn, "vector")
        except psycopg.OperationalError as exc:
            raise ServiceError(f"could not reach the database {redact_url(url)} ({exc})") from exc
        if self._vector_info is None:
            raise BackendUnavailable(
                f"the database {redact_url(url)} has no `vector` type: run `perflab db migrate` first"
            )
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Any]] | None = ConnectionPool(
            url,
            kwargs=kwargs,
            min_size=min_size,
            max_size=max_size,
            configure=self._configure,
            open=True,
            name="perflab-postgres-store",
        )

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        from pgvector.psycopg.vector import register_vector_info

        register_vector_info(conn, self._vector_info)
        for statement in self._spec.session_sql():
            conn.execute(statement)

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a connection; a lost server becomes ``ServiceError`` (breaker-friendly)."""
        import psycopg
        import psycopg_pool

        self.check_open()
        assert self._pool is not None
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise ServiceError(f"database unavailable ({type(exc).__name__}: {exc})") from exc

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction that also writes buffered counters; rolled back if the block raises."""
        with self._conn() as conn, conn.transaction():
            yield conn
            self._flush_counters(conn)
        self._writes += 1

    # -- dimensions and indexes ------------------------------------------------------

    def _namespace_dim(self, conn: psycopg.Connection[Any], namespace: str) -> int | None:
        dim = self._dims.get(namespace)
        if dim is None:
            row = conn.execute(
                "select dim from cache_entries where namespace = %s limit 1", (namespace,)
            ).fetchone()
            if row is not None:
                dim = self._dims[namespace] = int(row[0])
        return dim

    def create_index(self, dim: int, *, build_memory: str | None = None) -> None:
        """Build this store's approximate index for vectors of length ``dim`` (no-op if exact).

        Idempotent: an index of this kind for ``dim`` that already exists is kept, even
        if it was built with other parameters (``rebuild_index`` replaces it). An index
        of the *other* kind is not touched, and the planner may prefer it: see
        ``drop_indexes``. An
        IVFFlat index learns its clusters from the rows present when it is built:
        build it (or ``rebuild_index``) after loading data.

        Args:
            dim: the embedding length the index serves.
            build_memory: ``maintenance_work_mem`` for the build (e.g. ``"512MB"``); an
                HNSW graph that does not fit builds much more slowly.
        """
        # Checked before building the text: search() calls this on every lookup.
        create = None if dim in self._indexed else self._spec.create_sql(dim)
        if create is None:
            return
        with self._conn() as conn, conn.transaction():
            if build_memory is not None:
                conn.execute("select set_config('maintenance_work_mem', %s, true)", (build_memory,))
            conn.execute(create)
        self._indexed.add(dim)

    def drop_indexes(self, dim: int) -> None:
        """Drop every approximate index (HNSW and IVFFlat) for vectors of length ``dim``.

        Both kinds index the same expression, so when both exist the planner picks
        whichever it estimates cheaper, whatever ``index`` this store was given: keep
        one kind per length.
        """
        with self._conn() as conn:
            conn.execute(drop_index_sql("hnsw", dim))
            conn.execute(drop_index_sql("ivfflat", dim))
        self._indexed.discard(dim)

    def rebuild_index(self, dim: int, *, build_memory: str | None = None) -> None:
        """Drop and rebuild the approximate index for ``dim`` (e.g. IVFFlat after a bulk load)."""
        if self.index == "exact":
            return
        with self._conn() as conn:
            conn.execute(drop_index_sql(self.index, dim))
        self._indexed.discard(dim)
        self.create_index(dim, build_memory=build_memory)

    # -- the VectorStore protocol ----------------------------------------------------

    def add_many(self, namespace: str, entries: Sequence[NewEntry]) -> list[int]:
        """Store entries in one transaction: all of them, or (on any error) none."""
        check_entries(entries)
        if not entries:
            return []
        with self._lock, self._write() as conn:
            dim, rows = entry_rows(namespace, entries, self._namespace_dim(conn, namespace))
            with conn.cursor() as cur:
                cur.executemany(INSERT_ENTRY, rows, returning=True)
                ids = []
                while True:
                    ids.append(int(cur.fetchone()[0]))  # type: ignore[index]
                    if not cur.nextset():
                        break
        self._dims[namespace] = dim
        self.create_index(dim)
        return ids

    def load(self, namespace: str, entries: Sequence[NewEntry]) -> int:
        """Bulk-load entries with ``COPY`` in one transaction; return how many (ids are not returned).

        Much faster than ``add_many`` for thousands of rows (one stream instead of one
        statement per row): use it to fill a table for an indexing experiment, then
        ``create_index`` / ``rebuild_index``.
        """
        check_entries(entries)
        if not entries:
            return 0
        with self._lock, self._write() as conn:
            dim, rows = entry_rows(namespace, entries, self._namespace_dim(conn, namespace))
            with conn.cursor() as cur, cur.copy(COPY_ENTRIES) as copy:
                copy.set_types(COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
        self._dims[namespace] = dim
        return len(entries)

    def search(
        self, namespace: str, vector: FloatArray, k: int = 1, *, now: float | None = None
    ) -> list[Neighbour]:
        """Return up to ``k`` nearest entries, best first; the value column is never read."""
        if k < 1:
            raise ValueError(f"k ({k}) must be >= 1")
        with self._conn() as conn:
            dim = self._namespace_dim(conn, namespace)
            if dim is None:
                return []
            query = as_vector(vector, dim)
            self.create_index(dim)
            rows = conn.execute(
                self._spec.search_sql(dim, now is not None),
                {"q": query, "ns": namespace, "now": now, "k": k},
            ).fetchall()
        self._searches += 1
        return [
            Neighbour(int(r[0]), float(r[1]), r[2], r[3], float(r[4]), float(r[5])) for r in rows
        ]

    def explain(
        self, namespace: str, vector: FloatArray, k: int = 1, *, analyze: bool = False
    ) -> str:
        """PostgreSQL's plan for ``search`` (``EXPLAIN``, or ``EXPLAIN ANALYZE`` that runs it)."""
        with self._conn() as conn:
            dim = self._namespace_dim(conn, namespace) or int(np.asarray(vector).shape[0])
            query = as_vector(vector, dim)
            verb = "explain analyze" if analyze else "explain"
            rows = conn.execute(
                f"{verb} {self._spec.search_sql(dim, False)}", {"q": query, "ns": namespace, "k": k}
            )
            return "\n".join(r[0] for r in rows)

    def get(self, entry_id: int) -> Entry | None:
        """Return the entry with its value, or ``None``."""
        with self._conn() as conn:
            row = conn.execute(
                f"select {ENTRY_COLUMNS} from cache_entries where id = %s", (entry_id,)
            ).fetchone()
        if row is None:
            return None
        vector = np.asarray(row[3].to_numpy(), dtype=np.float32)
        return Entry(
            int(row[0]), row[1], row[2], vector, row[4], row[5], float(row[6]), float(row[7])
        )

    def touch(self, entry_id: int, expires_at: float) -> bool:
        """Set an entry's expiry; ``False`` if it is gone."""
        with self._lock, self._write() as conn:
            cur = conn.execute(
                "update cache_entries set expires_at = %s where id = %s",
                (float(expires_at), entry_id),
            )
            return cur.rowcount > 0

    def delete_expired(self, now: float) -> int:
        """Delete entries stale at ``now``; return how many."""
        with self._lock, self._write() as conn:
            return conn.execute(
                "delete from cache_entries where expires_at <= %s", (float(now),)
            ).rowcount

    def clear(self, namespace: str | None = None) -> int:
        """Delete a namespace's entries (all when ``None``); return how many."""
        with self._lock, self._write() as conn:
            if namespace is None:
                gone = conn.execute("delete from cache_entries").rowcount
                self._dims.clear()
            else:
                gone = conn.execute(
                    "delete from cache_entries where namespace = %s", (namespace,)
                ).rowcount
                self._dims.pop(namespace, None)
            return gone

    def _scalar(self, sql: str, params: Sequence[object] = ()) -> int:
        with self._conn() as conn:
            row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row is not None and row[0] is not None else 0

    def count(self, namespace: str | None = None) -> int:
        """Number of entries in ``namespace`` (all when ``None``)."""
        if namespace is None:
            return self._scalar("select count(*) from cache_entries")
        return self._scalar("select count(*) from cache_entries where namespace = %s", (namespace,))

    def count_stale(self, now: float, namespace: str | None = None) -> int:
        """Number of entries stale at ``now``."""
        if namespace is None:
            return self._scalar(
                "select count(*) from cache_entries where expires_at <= %s", (float(now),)
            )
        return self._scalar(
            "select count(*) from cache_entries where namespace = %s and expires_at <= %s",
            (namespace, float(now)),
        )

    def namespaces(self) -> dict[str, int]:
        """Entry count per namespace."""
        with self._conn() as conn:
            rows = conn.execute(
                "select namespace, count(*) from cache_entries group by namespace"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def size_bytes(self) -> int:
        """Bytes of the stored rows as PostgreSQL keeps them (compressed, without page and index overhead).

        ``relation_size_bytes()`` gives the on-disk size instead, which moves in 8 kB pages.
        """
        return self._scalar("select coalesce(sum(pg_column_size(e.*)), 0) from cache_entries e")

    def relation_size_bytes(self) -> int:
        """On-disk size of the tables with their indexes and TOAST (``pg_total_relation_size``)."""
        return self._scalar(
            "select pg_total_relation_size('cache_entries') + pg_total_relation_size('cache_counters')"
        )

    def _flush_counters(self, conn: psycopg.Connection[Any]) -> None:
        if self._pending:
            with conn.cursor() as cur:
                cur.executemany(ADD_COUNTERS, self._pending.rows())
            self._pending.clear()

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._pool is None

    def where(self) -> str:
        """The database URL, password redacted."""
        return redact_url(self.url)

    def _write_pending(self) -> None:
        with self._write():
            pass  # _write flushes the buffer inside the transaction

    def _read_counters(self, namespace: str) -> dict[str, int]:
        with self._conn() as conn:
            rows = conn.execute(
                "select name, value from cache_counters where namespace = %s", (namespace,)
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def _delete_counters(self, namespace: str | None) -> None:
        with self._write() as conn:
            if namespace is None:
                conn.execute("delete from cache_counters")
            else:
                conn.execute("delete from cache_counters where namespace = %s", (namespace,))

    def stats(self) -> PostgresStoreStats:
        """Searches, writes and the pool's current state."""
        pool = self._pool.get_stats() if self._pool is not None else {}
        return PostgresStoreStats(
            self._searches,
            self._writes,
            pool.get("pool_size", 0),
            pool.get("pool_available", 0),
            pool.get("requests_waiting", 0),
        )

    def _release(self) -> None:
        assert self._pool is not None
        self._pool.close()
        self._pool = None

    def __repr__(self) -> str:
        if self._pool is None:
            return f"<PostgresStore {redact_url(self.url)} [closed]>"
        s = self.stats()
        return (
            f"<PostgresStore {redact_url(self.url)} [index {self.index}, pool {s.pool_size - s.pool_available}"
            f" in use / {s.pool_size}, {s.searches} searches]>"
        )
