"""The cache's store behaviour suite, run unchanged on SupabaseStore over real HTTP.

The stand-in answers with PostgREST's shapes from a real PostgreSQL (tests/backends/
_postgrest.py), so every call goes through the supabase client, httpx and a socket.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tests.cache.test_store_contract as _contract
from perflab.backends.supabase_store import SupabaseStore
from tests import _pg
from tests.backends._postgrest import PostgrestStandIn
from tests.backends.conftest import SUPABASE_TEST_KEY

pytestmark = pytest.mark.postgres

globals().update(
    {name: getattr(_contract, name) for name in dir(_contract) if name.startswith("test_")}
)


@pytest.fixture
def store(pg_url: str, pg_schema: str, postgrest: PostgrestStandIn) -> Iterator[SupabaseStore]:
    """A fresh, empty SupabaseStore talking to the stand-in."""
    _pg.truncate(pg_url, pg_schema)
    with SupabaseStore(postgrest.url, SUPABASE_TEST_KEY) as made:
        yield made
