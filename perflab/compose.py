"""Composition: the semantic cache the settings describe, ``open_cache(settings)``.

Opening a cache from settings puts pieces of several layers together: the settings
(``perflab.config``, ``perflab.paths``), the engine's cache and embedders, and, for
PERFLAB_CACHE_BACKEND=postgres or supabase, a real backend (``perflab.backends``). So it
lives here, above all of them, and the cache package itself never imports a backend
(docs/architecture.md; tests/test_walls.py holds it).

Reads ``perflab.config.Settings`` (PERFLAB_EMBEDDER, PERFLAB_CACHE_BACKEND,
PERFLAB_CACHE_PATH, CACHE_SIMILARITY_THRESHOLD, CACHE_TTL_DAYS, EMBEDDING_CACHE_SIZE,
OPENAI_*, DATABASE_URL); any value can also be passed explicitly, which wins.

>>> from perflab.clock import FakeClock
>>> with open_cache(None, embedder="hashing", backend="memory", clock=FakeClock()) as cache:
...     cache.threshold
0.8
"""

from __future__ import annotations

import os
from typing import Any

from perflab.cache import EmbeddingCache, MemoryStore, SemanticCache, SQLiteStore, VectorStore
from perflab.clock import Clock
from perflab.config import Settings, load_settings
from perflab.embedders import Embedder, get_embedder
from perflab.errors import ConfigError
from perflab.paths import default_cache_path
from perflab.secret import reveal

__all__ = ["BACKENDS", "open_cache", "open_store"]

BACKENDS = ("sqlite", "memory", "postgres", "supabase")


def _setting(settings: Any, name: str, default: Any) -> Any:
    value = getattr(settings, name, None) if settings is not None else None
    if value is None:
        return default
    # A pydantic SecretStr is unwrapped here, on its way to a client; never printed.
    return reveal(value) if hasattr(value, "get_secret_value") else value


def open_store(
    backend: str = "sqlite",
    *,
    path: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    settings: Any = None,
) -> VectorStore:
    """Open a vector store by backend name.

    Args:
        backend: sqlite | memory | postgres | supabase.
        path: the SQLite file; default ``perflab.paths.default_cache_path(settings)``.
        database_url: the PostgreSQL URL (postgres and supabase backends); ``None``
            reads DATABASE_URL from ``settings``.
        settings: consulted for the default SQLite path, and by
            ``perflab.backends.factory.open_pg_store`` for postgres and supabase
            (SUPABASE_URL/SUPABASE_KEY, PERFLAB_PG_INDEX); ``None`` loads them.

    Raises:
        ConfigError: unknown backend; postgres without DATABASE_URL and no running
            embedded server (``perflab db start``); supabase without its URL and key.
        CacheFileError: the SQLite file is corrupted or foreign.
    """
    if backend == "sqlite":
        if path is None:
            # A settings-like object that is not a Settings falls back to the environment.
            path = default_cache_path(settings if isinstance(settings, Settings) else None)
        return SQLiteStore(path)
    if backend == "memory":
        return MemoryStore()
    if backend in ("postgres", "supabase"):
        # The real-backend rules (Supabase over HTTP or its connection string, the running
        # embedded server when DATABASE_URL is unset, PERFLAB_PG_INDEX) live with the adapters.
        from perflab.backends.factory import open_pg_store

        return open_pg_store(database_url, backend=backend, settings=settings)
    raise ConfigError(
        f"PERFLAB_CACHE_BACKEND={backend!r} is not allowed; allowed: {', '.join(BACKENDS)}"
    )


def open_cache(
    settings: Any | None = None,
    *,
    embedder: Embedder | str | None = None,
    store: VectorStore | None = None,
    backend: str | None = None,
    path: str | os.PathLike[str] | None = None,
    threshold: float | None = None,
    ttl_days: float | None = None,
    embedding_cache_size: int | None = None,
    clock: Clock | None = None,
    **cache_kwargs: Any,
) -> SemanticCache:
    """Build a ``SemanticCache`` from settings, with explicit arguments taking precedence.

    Args:
        settings: a ``perflab.config.Settings`` (or any object with some of its
            fields); ``None`` loads it (environment, ``.env``, profile).
        embedder: an embedder or a name for ``get_embedder`` (PERFLAB_EMBEDDER).
        store: a ready store; otherwise ``backend`` and ``path`` choose one.
        backend: sqlite | memory | postgres | supabase (PERFLAB_CACHE_BACKEND).
        path: the SQLite file (PERFLAB_CACHE_PATH); default in the data folder.
        threshold: CACHE_SIMILARITY_THRESHOLD (default 0.8).
        ttl_days: CACHE_TTL_DAYS (default 7).
        embedding_cache_size: EMBEDDING_CACHE_SIZE; > 0 wraps the embedder in an
            ``EmbeddingCache`` of that size.
        clock: the cache's clock (default wall time).
        **cache_kwargs: passed to ``SemanticCache`` (``sliding_ttl``, ``api_cost_usd``...).
    """
    if settings is None:
        settings = load_settings()
    if not isinstance(embedder, str) and embedder is not None:
        chosen: Embedder = embedder
    else:
        kind = embedder or _setting(settings, "perflab_embedder", "wordllama")
        kwargs: dict[str, Any] = {}
        if str(kind).startswith("openai"):
            kwargs = {
                "api_key": _setting(settings, "openai_api_key", None),
                "base_url": _setting(settings, "openai_base_url", None),
            }
            model = _setting(settings, "openai_embedding_model", None)
            if model is not None and "/" not in str(kind):
                kwargs["model"] = model
        chosen = get_embedder(str(kind), **kwargs)
    size = (
        embedding_cache_size
        if embedding_cache_size is not None
        else _setting(settings, "embedding_cache_size", 0)
    )
    if int(size) > 0:
        chosen = EmbeddingCache(chosen, int(size))
    if store is None:
        store = open_store(
            str(backend or _setting(settings, "perflab_cache_backend", "sqlite")),
            path=path if path is not None else _setting(settings, "perflab_cache_path", None),
            database_url=_setting(settings, "database_url", None),
            settings=settings,
        )
    return SemanticCache(
        chosen,
        store,
        threshold=threshold
        if threshold is not None
        else float(_setting(settings, "cache_similarity_threshold", 0.8)),
        ttl_days=ttl_days
        if ttl_days is not None
        else float(_setting(settings, "cache_ttl_days", 7.0)),
        clock=clock,
        **cache_kwargs,
    )
