"""SupabaseStore: PostgREST request shapes, errors mapped for the engine, and the key kept secret."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import numpy as np
import pytest

from perflab.backends.supabase_store import SupabaseStore
from perflab.errors import RateLimited, ServiceError
from tests import _pg
from tests.backends._postgrest import PostgrestStandIn
from tests.backends.conftest import SUPABASE_TEST_KEY

pytestmark = pytest.mark.postgres


def _unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def stand_in(
    pg_url: str, pg_schema: str, postgrest: PostgrestStandIn
) -> Iterator[PostgrestStandIn]:
    """The session's stand-in with empty tables and a fresh request log."""
    _pg.truncate(pg_url, pg_schema)
    postgrest.requests.clear()
    postgrest.fail_next.clear()
    postgrest.released.clear()
    yield postgrest
    postgrest.released.set()


def test_search_is_an_rpc_to_match_cache_entries(stand_in: PostgrestStandIn) -> None:
    """add is one POST to the table and search one POST to rpc/match_cache_entries (after a dim lookup)."""
    with SupabaseStore(stand_in.url, SUPABASE_TEST_KEY) as store:
        entry = store.add("ns", "q", _unit(1, 0), "v", created_at=0.0, expires_at=float("inf"))
        stand_in.requests.clear()
        hits = store.search("ns", _unit(1, 0.1))
    assert [h.id for h in hits] == [entry] and hits[0].expires_at == float("inf")
    assert stand_in.requests == [("POST", "/rest/v1/rpc/match_cache_entries")]


def test_a_wrong_key_is_a_service_error_that_does_not_echo_it(stand_in: PostgrestStandIn) -> None:
    """PostgREST's 401 becomes ServiceError; neither the message nor repr contains the key."""
    wrong = "sb-wrong-" + secrets.token_hex(8)
    store = SupabaseStore(stand_in.url, wrong)
    with pytest.raises(ServiceError, match="Invalid API key") as caught:
        store.namespaces()
    assert wrong not in str(caught.value) and wrong not in repr(store)


def test_429_becomes_rate_limited_with_retry_after(stand_in: PostgrestStandIn) -> None:
    """A 429 with Retry-After raises RateLimited carrying the wait, for the engine's Retry."""
    stand_in.fail_next.append((429, {"Retry-After": "7"}))
    with (
        SupabaseStore(stand_in.url, SUPABASE_TEST_KEY) as store,
        pytest.raises(RateLimited) as caught,
    ):
        store.count()
    assert caught.value.retry_after == 7.0


def test_500_becomes_service_error(stand_in: PostgrestStandIn) -> None:
    """A 5xx raises ServiceError with the status, which the circuit breaker counts."""
    stand_in.fail_next.append((503, {}))
    with (
        SupabaseStore(stand_in.url, SUPABASE_TEST_KEY) as store,
        pytest.raises(ServiceError) as caught,
    ):
        store.namespaces()
    assert caught.value.status == 503


@pytest.mark.slow
def test_a_timeout_becomes_service_error(stand_in: PostgrestStandIn) -> None:
    """A reply slower than the timeout raises ServiceError('timed out')."""
    stand_in.stall_next.set()
    with SupabaseStore(stand_in.url, SUPABASE_TEST_KEY, timeout=0.2) as store:
        with pytest.raises(ServiceError, match="timed out"):
            store.count()
        stand_in.released.set()


def test_counters_and_sizes_go_through_helper_functions(stand_in: PostgrestStandIn) -> None:
    """incr, namespaces and size_bytes use the schema's rpc helpers."""
    with SupabaseStore(stand_in.url, SUPABASE_TEST_KEY) as store:
        store.add("ns", "q", _unit(1, 0), "v" * 100, created_at=0.0, expires_at=1.0)
        store.incr("ns", {"lookups": 2})
        assert store.namespaces() == {"ns": 1} and store.size_bytes() > 100
        assert store.counters("ns") == {"lookups": 2}
    paths = {p for _, p in stand_in.requests}
    assert {
        "/rest/v1/rpc/cache_incr_counters",
        "/rest/v1/rpc/cache_namespaces",
        "/rest/v1/rpc/cache_size_bytes",
    } <= paths


def test_real_supabase_project_round_trip() -> None:
    """With SUPABASE_URL and SUPABASE_KEY set, add, search and clear work on the real project."""
    url, key = os.environ.get("SUPABASE_URL"), os.environ.get("SUPABASE_KEY")
    if not url or not key:
        pytest.skip(
            "SUPABASE_URL and SUPABASE_KEY are not set (a real project with schema.sql applied)"
        )
    namespace = f"perflab-test/{secrets.token_hex(4)}"
    with SupabaseStore(url, key) as store:
        try:
            entry = store.add(namespace, "q", _unit(1, 0, 0), "v", created_at=0.0, expires_at=1e9)
            hits = store.search(namespace, _unit(1, 0.1, 0))
            assert [h.id for h in hits] == [entry]
        finally:
            store.clear(namespace)
