"""A PostgreSQL for tests: DATABASE_URL when set, else the embedded server (pgserver).

Imported by conftests that need a database (tests/backends/). One server per test
session, in a temporary folder, stopped at the end. Tables go into a throwaway schema
(``perflab_test_<random>``) dropped at the end, so a DATABASE_URL pointing at a real
database is left as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def server_folder() -> Iterator[Path]:
    """A fresh folder for a server's data, removed afterwards.

    Not under pytest's tmp_path: as root, pgserver runs PostgreSQL as the user
    ``pgserver`` and opens the folder's parents to it (o+rx), but every pytest
    session resets ``/tmp/pytest-of-root`` to 0700, which would lock the server out
    of its own data whenever another pytest runs at the same time (CI, xdist, agents).
    """
    folder = Path(tempfile.mkdtemp(prefix="perflab-pg-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def database_url() -> Iterator[str]:
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
    with server_folder() as folder:
        server = EmbeddedPostgres(folder / "pgdata")
        try:
            started = server.start()
        except Exception as exc:  # noqa: BLE001 - a sandbox without useradd, a full disk...
            pytest.skip(f"the embedded PostgreSQL did not start ({type(exc).__name__}: {exc})")
        try:
            yield started
        finally:
            server.stop(mode="immediate")  # its data is thrown away next


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
