"""``open_pg_store``: the PostgreSQL-backed store the settings ask for.

``perflab.cache.open_store`` calls this for ``PERFLAB_CACHE_BACKEND=postgres`` and
``=supabase``:

- ``postgres``: a ``PostgresStore`` on DATABASE_URL, or on the embedded server, which
  is started if it is not running (``perflab db stop`` stops it).
- ``supabase``: a ``SupabaseStore`` over HTTP when SUPABASE_URL and SUPABASE_KEY are
  set; else, with DATABASE_URL (a Supabase project's connection string), the
  ``PostgresStore`` on it.

The index (exact, hnsw, ivfflat) comes from ``index=``, else a ``perflab_pg_index``
setting if the configuration has one, else exact.
"""

from __future__ import annotations

from typing import Any, cast

from perflab.cache._store import VectorStore
from perflab.errors import ConfigError

__all__ = ["open_pg_store"]


def open_pg_store(
    database_url: str | None = None,
    *,
    backend: str | None = None,
    settings: Any | None = None,
    index: str | None = None,
) -> VectorStore:
    """Open the configured PostgreSQL or Supabase store.

    Args:
        database_url: the database (DATABASE_URL); ``None`` reads the settings.
        backend: ``"postgres"`` or ``"supabase"``; ``None`` reads PERFLAB_CACHE_BACKEND.
        settings: a ``perflab.config.Settings``; ``None`` loads them (environment, .env).
        index: ``"exact"``, ``"hnsw"`` or ``"ivfflat"`` for the PostgresStore.

    Raises:
        ConfigError: supabase without its URL and key (and no DATABASE_URL).
        BackendUnavailable: no DATABASE_URL and the embedded server cannot run here.
    """
    from perflab.backends.embedded import resolve_database_url
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
    if kind not in ("exact", "hnsw", "ivfflat"):
        raise ConfigError(
            f"PERFLAB_PG_INDEX={kind!r} is not allowed; allowed: exact, hnsw, ivfflat"
        )
    return PostgresStore(resolve_database_url(url or "", start=True), index=cast("IndexKind", kind))
