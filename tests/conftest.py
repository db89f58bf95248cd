"""Shared fixtures for the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from perflab.clock import FakeClock

# Notebooks under tests/ are fixtures (hostile learner notebooks and the like), not
# lessons: nbval must not collect them. Lessons live in notebooks/.
collect_ignore_glob = ["**/*.ipynb"]


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says so."""
    return FakeClock()


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's real perflab data folder and profile.

    API keys are left alone on purpose: tests that talk to the real services run
    when keys are set and skip, with the reason, when they are not.
    """
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path_factory.mktemp("perflab-data")))
    monkeypatch.delenv("PERFLAB_PROFILE", raising=False)


# PostgreSQL for the backend tests and for the store contract suite's PostgreSQL and
# Supabase factories (tests/cache/conftest.py): here, so both folders see them.
@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL: DATABASE_URL, or the embedded server started for this session."""
    from tests import _pg

    yield from _pg.database_url()


@pytest.fixture(scope="session")
def pg_schema(pg_url: str) -> Iterator[str]:
    """A schema with perflab's tables, dropped at the end of the session."""
    from tests import _pg

    yield from _pg.throwaway_schema(pg_url)


@pytest.fixture(scope="session")
def postgrest(pg_url: str, pg_schema: str) -> Iterator[object]:
    """A local stand-in for a Supabase project's REST API over the session's schema."""
    from tests.backends._postgrest import PostgrestStandIn
    from tests.backends.conftest import SUPABASE_TEST_KEY

    with PostgrestStandIn(pg_url, pg_schema, SUPABASE_TEST_KEY) as server:
        yield server
