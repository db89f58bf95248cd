"""Fixtures for the backend tests: one PostgreSQL per session, a throwaway schema, stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import _pg


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL: DATABASE_URL, or the embedded server started for this session."""
    yield from _pg.database_url()


@pytest.fixture(scope="session")
def pg_schema(pg_url: str) -> Iterator[str]:
    """A schema with perflab's tables, dropped at the end of the session."""
    yield from _pg.throwaway_schema(pg_url)


@pytest.fixture(params=["exact", "hnsw"])
def store(request: pytest.FixtureRequest, pg_url: str, pg_schema: str) -> Iterator[object]:
    """A fresh, empty PostgresStore (exact search, then HNSW) for the store contract suite."""
    from perflab.backends.postgres import PostgresStore

    _pg.truncate(pg_url, pg_schema)
    made = PostgresStore(pg_url, schema=pg_schema, index=request.param, apply_schema=False)
    yield made
    made.close()


SUPABASE_TEST_KEY = "sb-test-service-role-key"


@pytest.fixture(scope="session")
def postgrest(pg_url: str, pg_schema: str) -> Iterator[object]:
    """A local stand-in for a Supabase project's REST API over the session's schema."""
    from tests.backends._postgrest import PostgrestStandIn

    with PostgrestStandIn(pg_url, pg_schema, SUPABASE_TEST_KEY) as server:
        yield server
