"""``open_pg_store``: the factory of the PostgreSQL-backed store the settings ask for.

(It was ``perflab.backends.pgstore``, a name that read as a store; that module still
re-exports ``open_pg_store``.)

``perflab.compose.open_cache`` (through ``open_store``) calls this for
``PERFLAB_CACHE_BACKEND=postgres`` and ``=supabase``:

- ``postgres``: a ``PostgresStore`` on DATABASE_URL; without one, on the embedded
  server if it is already running (``perflab db start``). Opening a cache never starts
  a server by itself: the server is a background process that outlives the program
  (and, as root, runs as a system user it creates), which is too much to do silently.
  Pass ``start=True`` to start it anyway.
- ``supabase``: a ``SupabaseStore`` over HTTP when SUPABASE_URL and SUPABASE_KEY are
  set; else, with DATABASE_URL (a Supabase project's connection string), the
  ``PostgresStore`` on it.

The index (exact, hnsw, ivfflat) comes from ``index=``, else PERFLAB_PG_INDEX
(``settings.perflab_pg_index``, default exact).
"""

from __future__ import annotations

from typing import Any, cast

from perflab.cache.store import VectorStore
from perflab.errors import ConfigError

__all__ = ["open_pg_store"]

INDEX_KINDS = ("exact", "hnsw", "ivfflat")


def open_pg_store(
    database_url: str | None = None,
    *,
    backend: str | None = None,
    settings: Any | None = None,
    index: str | None = None,
    start: bool = False,
) -> VectorStore:
    """Open the configured PostgreSQL or Supabase store.

    Args:
        database_url: the database (DATABASE_URL); ``None`` reads the settings.
        backend: ``"postgres"`` or ``"supabase"``; ``None`` reads PERFLAB_CACHE_BACKEND.
        settings: a ``perflab.config.Settings``; ``None`` loads them (environment, .env).
        index: ``"exact"``, ``"hnsw"`` or ``"ivfflat"`` for the PostgresStore
            (``None``: PERFLAB_PG_INDEX).
        start: with no database URL, start the embedded server if it is not running
            (default: use it only if it already runs).

    Raises:
        ConfigError: supabase without its URL and key (and no DATABASE_URL); postgres
            with no DATABASE_URL and no running embedded server (the message says how
            to start one); an index kind that is not allowed.
        BackendUnavailable: ``start=True`` but the embedded server cannot run here.
    """
    from perflab.backends.postgres import IndexKind, PostgresStore

    if settings is None:
        from perflab.config import load_settings

        settings = load_settings()
    chosen = backend or str(getattr(settings, "perflab_cache_backend", "postgres"))
    url = database_url or settings.secret("database_url")
    if chosen == "supabase":
        project, key = getattr(settings, "supabase_url", None), settings.secret("supabase_key")
        if project and key:
            from perflab.backends.supabase_store import SupabaseStore

            return SupabaseStore(str(project), key)
        if not url:
            raise ConfigError(
                "PERFLAB_CACHE_BACKEND=supabase needs SUPABASE_URL and SUPABASE_KEY "
                "(or DATABASE_URL, the project's connection string)"
            )
    kind = index or str(getattr(settings, "perflab_pg_index", None) or "exact")
    if kind not in INDEX_KINDS:
        raise ConfigError(
            f"PERFLAB_PG_INDEX={kind!r} is not allowed; allowed: {', '.join(INDEX_KINDS)}"
        )
    if not url:
        url = _embedded_url(chosen, settings, start=start)
    return PostgresStore(url, index=cast("IndexKind", kind))


def _embedded_url(backend: str, settings: Any, *, start: bool) -> str:
    """The embedded server's URL when it runs (or is started); else a ConfigError saying how."""
    from perflab.backends.embedded import EmbeddedPostgres, default_pgdata, pgserver_problem

    running = EmbeddedPostgres(default_pgdata(settings)).url_if_running(start=start)
    if running is not None:
        return running
    problem = pgserver_problem()
    how = (
        f"set DATABASE_URL to a PostgreSQL server with pgvector ({problem})"
        if problem is not None
        else "run `perflab db start`, then set DATABASE_URL to what `perflab db url` prints "
        "(or to any PostgreSQL server with pgvector)"
    )
    raise ConfigError(
        f"PERFLAB_CACHE_BACKEND={backend} needs a database: DATABASE_URL is not set and "
        f"the embedded PostgreSQL is not running; {how}"
    )
