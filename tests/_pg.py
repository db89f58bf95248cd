"""A PostgreSQL for tests: DATABASE_URL when set, else the embedded server (pgserver).

Imported by conftests that need a database (tests/backends/). One server per test
session, in a temporary folder, stopped at the end. Tables go into a throwaway schema
(``perflab_test_<random>``) dropped at the end, so a DATABASE_URL pointing at a real
database is left as it was.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest


def database_url(tmp_dir: Path) -> Iterator[str]:
    """Yield a database URL for the session, starting (and afterwards stopping) a server if needed.

    Skips, with the reason, when there is no DATABASE_URL and pgserver cannot run.
    """
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        yield url
        return
    from perflab.backends.embedded import EmbeddedPostgres, pgserver_problem

    problem = pgserver_problem()
    if problem is not None:
        pytest.skip(problem)
    server = EmbeddedPostgres(tmp_dir / "pgdata")
    try:
        started = server.start()
    except Exception as exc:  # noqa: BLE001 - a sandbox without useradd, a full disk...
        pytest.skip(f"the embedded PostgreSQL did not start ({type(exc).__name__}: {exc})")
    try:
        yield started
    finally:
        server.stop()


def throwaway_schema(url: str) -> Iterator[str]:
    """Yield the name of a fresh schema holding perflab's tables; drop it afterwards."""
    import psycopg

    from perflab.backends.postgres import migrate

    name = f"perflab_test_{secrets.token_hex(4)}"
    migrate(url, schema=name)
    try:
        yield name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"drop schema if exists {name} cascade")


def truncate(url: str, schema: str) -> None:
    """Empty perflab's tables in ``schema`` (ids restart at 1)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {schema}.cache_entries, {schema}.cache_counters restart identity")
