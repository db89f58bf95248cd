"""PERFLAB_CACHE_BACKEND=postgres|supabase: the semantic cache on the real backends, by configuration alone."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from perflab.backends.postgres import PostgresStore
from perflab.backends.supabase_store import SupabaseStore
from perflab.cache import open_cache
from perflab.config import load_settings
from perflab.errors import ConfigError
from tests import _pg
from tests.backends._postgrest import PostgrestStandIn
from tests.backends.conftest import SUPABASE_TEST_KEY

pytestmark = pytest.mark.postgres


def _in_schema(url: str, schema: str) -> str:
    """The URL with the test schema first on the search_path, so nothing lands in public."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-c search_path={schema},public')}"


def test_postgres_backend_by_configuration(
    pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PERFLAB_CACHE_BACKEND=postgres and DATABASE_URL, open_cache stores and finds in PostgreSQL."""
    _pg.truncate(pg_url, pg_schema)
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "postgres")
    monkeypatch.setenv("DATABASE_URL", _in_schema(pg_url, pg_schema))
    cache = open_cache(embedder="hashing")
    try:
        assert isinstance(cache.store, PostgresStore)
        cache.put("how to care for a python", "keep it warm")
        hit = cache.lookup("how to care for a python")
        assert hit.hit and hit.value == "keep it warm"
        assert not cache.lookup("stock market news today").hit
    finally:
        cache.store.close()


def test_supabase_backend_by_configuration(
    pg_url: str, pg_schema: str, postgrest: PostgrestStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PERFLAB_CACHE_BACKEND=supabase, SUPABASE_URL and SUPABASE_KEY, open_pg_store goes over HTTP."""
    from perflab.backends.pgstore import open_pg_store

    _pg.truncate(pg_url, pg_schema)
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_URL", postgrest.url)
    monkeypatch.setenv("SUPABASE_KEY", SUPABASE_TEST_KEY)
    cache = open_cache(embedder="hashing", store=open_pg_store())
    try:
        assert isinstance(cache.store, SupabaseStore)
        cache.put("best python books", "fluent python")
        assert cache.lookup("best python books").value == "fluent python"
    finally:
        cache.store.close()


def test_supabase_without_credentials_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """PERFLAB_CACHE_BACKEND=supabase with neither key nor DATABASE_URL is refused, naming the variables."""
    from perflab.backends.pgstore import open_pg_store

    for name in ("SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SUPABASE_URL and SUPABASE_KEY"):
        open_pg_store(backend="supabase", settings=load_settings(env_file=None))
