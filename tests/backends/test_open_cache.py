"""PERFLAB_CACHE_BACKEND=postgres|supabase: the semantic cache on the real backends, by configuration alone."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from perflab.backends.postgres import PostgresStore
from perflab.backends.supabase_store import SupabaseStore
from perflab.compose import open_cache
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
    from perflab.backends.factory import open_pg_store

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
    from perflab.backends.factory import open_pg_store

    for name in ("SUPABASE_URL", "SUPABASE_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="SUPABASE_URL and SUPABASE_KEY"):
        open_pg_store(backend="supabase", settings=load_settings(env_file=None))


def test_supabase_backend_reaches_supabase_store_through_open_cache(
    pg_url: str, pg_schema: str, postgrest: PostgrestStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_cache alone (no store= given) turns PERFLAB_CACHE_BACKEND=supabase into a SupabaseStore."""
    _pg.truncate(pg_url, pg_schema)
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "supabase")
    monkeypatch.setenv("SUPABASE_URL", postgrest.url)
    monkeypatch.setenv("SUPABASE_KEY", SUPABASE_TEST_KEY)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cache = open_cache(embedder="hashing")
    try:
        assert isinstance(cache.store, SupabaseStore)
        cache.put("fast api frameworks", "starlette")
        assert cache.lookup("fast api frameworks").value == "starlette"
    finally:
        cache.store.close()


@pytest.mark.parametrize("kind", ["hnsw", "ivfflat"])
def test_pg_index_setting_chooses_the_index(
    kind: str, pg_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PERFLAB_PG_INDEX reaches the PostgresStore that open_cache opens."""
    _pg.truncate(pg_url, pg_schema)
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "postgres")
    monkeypatch.setenv("DATABASE_URL", _in_schema(pg_url, pg_schema))
    monkeypatch.setenv("PERFLAB_PG_INDEX", kind)
    cache = open_cache(embedder="hashing")
    try:
        assert isinstance(cache.store, PostgresStore) and cache.store.index == kind
    finally:
        cache.store.close()


def test_postgres_without_url_or_server_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No DATABASE_URL and no embedded server running: a ConfigError naming `perflab db start` and `perflab db url`."""
    from perflab.backends.embedded import pgserver_problem

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "postgres")
    with pytest.raises(ConfigError) as info:
        open_cache(embedder="hashing")
    message = str(info.value)
    assert "PERFLAB_CACHE_BACKEND=postgres" in message and "DATABASE_URL" in message
    if pgserver_problem() is None:
        assert "`perflab db start`" in message and "`perflab db url`" in message
    assert not (tmp_path / "postgres").exists()  # nothing was started behind the user's back


def test_postgres_without_url_uses_the_running_embedded_server(
    pg_url: str, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No DATABASE_URL but an embedded server running: open_cache uses it."""
    from perflab.backends.embedded import EmbeddedPostgres

    _pg.truncate(pg_url, pg_schema)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PERFLAB_CACHE_BACKEND", "postgres")
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path))
    seen: list[Path] = []

    def running_url(self: EmbeddedPostgres) -> str:
        seen.append(self.pgdata)
        return _in_schema(pg_url, pg_schema)  # the session's server stands in for the user's

    monkeypatch.setattr(EmbeddedPostgres, "url", running_url)
    cache = open_cache(embedder="hashing")
    try:
        assert isinstance(cache.store, PostgresStore)
        assert seen == [tmp_path / "postgres"]
        cache.put("embedded postgres", "runs on a socket")
        assert cache.lookup("embedded postgres").hit
    finally:
        cache.store.close()
