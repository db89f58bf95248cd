"""The SQL text ``PostgresStore`` sends: statements, index DDL, search queries.

Pure functions and constants, with no connection in sight, so each statement can be
read, printed and tested on its own; ``perflab.backends.postgres`` runs them.

Exact or approximate search, chosen by ``IndexSpec.kind``:

- ``"exact"`` orders by ``embedding <=> query``: a sequential scan that compares every
  row of the namespace. Always right; its cost grows with the table.
- ``"hnsw"`` and ``"ivfflat"`` build an approximate index per embedding length, on the
  expression ``embedding::vector(<dim>)``, and search with the same expression so the
  planner can use it. Faster on big tables, at the price of sometimes missing the true
  nearest (measure recall with ``benchmarks/db.py``). An index is used only when the
  query's expression matches the index's: the exact search's uncast expression never
  matches, so ``"exact"`` stays exact even on a table that has an index.

Only integers (``:d``) and checked identifiers are ever formatted into the text;
every value goes in as a query parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from perflab.arrays import FloatArray
from perflab.cache.store import NewEntry, as_vector

__all__ = [
    "ADD_COUNTERS",
    "COPY_ENTRIES",
    "COPY_TYPES",
    "ENTRY_COLUMNS",
    "INSERT_ENTRY",
    "IndexKind",
    "IndexSpec",
    "drop_index_sql",
    "entry_rows",
    "search_path",
]

IndexKind = Literal["exact", "hnsw", "ivfflat"]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

ENTRY_COLUMNS = "id, namespace, query, embedding, value, intent, created_at, expires_at"
_WRITE_COLUMNS = "namespace, query, dim, embedding, value, intent, created_at, expires_at"
INSERT_ENTRY = (
    f"insert into cache_entries ({_WRITE_COLUMNS})"
    " values (%s, %s, %s, %s, %s, %s, %s, %s) returning id"
)
COPY_ENTRIES = f"copy cache_entries ({_WRITE_COLUMNS}) from stdin (format binary)"
COPY_TYPES = ["text", "text", "int4", "vector", "text", "text", "float8", "float8"]
# Adds to a counter that may not exist yet: one statement, no read-modify-write race.
ADD_COUNTERS = (
    "insert into cache_counters (namespace, name, value) values (%s, %s, %s)"
    " on conflict (namespace, name) do update set value = cache_counters.value + excluded.value"
)

EntryRow = tuple[str, str, int, FloatArray, str, str | None, float, float]


def search_path(schema: str | None) -> str | None:
    """The ``search_path`` for a schema: ours first, then where pgvector may live."""
    if schema is None:
        return None
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"schema name {schema!r} must be a plain identifier (letters, digits, _)")
    # Supabase installs extensions in the `extensions` schema; elsewhere it is `public`.
    return f"{schema}, public, extensions"


def drop_index_sql(kind: IndexKind, dim: int) -> str:
    """``drop index`` for the ``kind`` index on vectors of length ``dim`` (if it exists)."""
    return f"drop index if exists cache_entries_{kind}_{dim:d}"


@dataclass(frozen=True)
class IndexSpec:
    """Which search a store runs, with the approximate index's parameters.

    Args:
        kind: ``"exact"``, ``"hnsw"`` or ``"ivfflat"`` (see the module docstring).
        hnsw_m: HNSW graph degree (pgvector default 16).
        hnsw_ef_construction: HNSW build-time candidate list (default 64).
        hnsw_ef_search: HNSW search-time candidate list (default 40).
        ivfflat_lists: IVFFlat clusters.
        ivfflat_probes: IVFFlat clusters searched per query (default 1).

    Raises:
        ValueError: an unknown kind, or a parameter below 1.
    """

    kind: IndexKind = "exact"
    hnsw_m: int = 16
    hnsw_ef_construction: int = 64
    hnsw_ef_search: int = 40
    ivfflat_lists: int = 100
    ivfflat_probes: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("exact", "hnsw", "ivfflat"):
            raise ValueError(f"index ({self.kind!r}) must be 'exact', 'hnsw' or 'ivfflat'")
        for name in (
            "hnsw_m",
            "hnsw_ef_construction",
            "hnsw_ef_search",
            "ivfflat_lists",
            "ivfflat_probes",
        ):
            value = getattr(self, name)
            if value < 1:
                raise ValueError(f"{name} ({value}) must be >= 1")

    def session_sql(self) -> list[str]:
        """``set`` statements each pooled connection runs: how hard the index searches."""
        if self.kind == "hnsw":
            return [f"set hnsw.ef_search = {self.hnsw_ef_search:d}"]
        if self.kind == "ivfflat":
            return [f"set ivfflat.probes = {self.ivfflat_probes:d}"]
        return []

    def create_sql(self, dim: int) -> str | None:
        """``create index`` for vectors of length ``dim``, or ``None`` for exact search."""
        if self.kind == "exact":
            return None
        if self.kind == "hnsw":
            options = f"m = {self.hnsw_m:d}, ef_construction = {self.hnsw_ef_construction:d}"
        else:
            options = f"lists = {self.ivfflat_lists:d}"
        return (
            f"create index if not exists cache_entries_{self.kind}_{dim:d} on cache_entries"
            f" using {self.kind} ((embedding::vector({dim:d})) vector_cosine_ops)"
            f" with ({options}) where dim = {dim:d}"
        )

    def search_sql(self, dim: int, has_now: bool) -> str:
        """The nearest-neighbour query; parameters ``q``, ``ns``, ``k`` and (if ``has_now``) ``now``."""
        stale = " and expires_at > %(now)s" if has_now else ""
        if self.kind == "exact":
            distance, order = "embedding <=> %(q)s", "embedding <=> %(q)s, id"
        else:
            distance = f"embedding::vector({dim:d}) <=> %(q)s::vector({dim:d})"
            order = distance  # exactly the index's expression, nothing after it
        return (
            f"select id, 1 - ({distance}) as similarity, query, intent, created_at, expires_at"
            f" from cache_entries where dim = {dim:d} and namespace = %(ns)s{stale}"
            f" order by {order} limit %(k)s"
        )


def entry_rows(
    namespace: str, entries: Sequence[NewEntry], dim: int | None
) -> tuple[int, list[EntryRow]]:
    """The parameters of ``INSERT_ENTRY`` (or rows of ``COPY_ENTRIES``) for ``entries``.

    Args:
        namespace: where the entries go.
        entries: at least one entry.
        dim: the namespace's embedding length, or ``None`` if it holds nothing yet.

    Returns:
        The embedding length and one row per entry.

    Raises:
        ValueError: a vector of another length than ``dim``, or than the others.
    """
    vectors = [as_vector(e.vector, dim) for e in entries]
    dim = vectors[0].shape[0]
    if any(v.shape[0] != dim for v in vectors):
        raise ValueError("vectors added together must all have the same length")
    rows: list[EntryRow] = [
        (
            namespace,
            e.query,
            dim,
            v,
            e.value,
            e.intent,
            float(e.created_at),
            float(e.expires_at),
        )
        for e, v in zip(entries, vectors)
    ]
    return dim, rows
