"""`perflab db ...` end to end, and no secret in any command's output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.backends.embedded import pgserver_problem
from perflab.cli import main
from tests import _pg

SECRETS = {
    "OPENAI_API_KEY": "sk-test-perflab-0penai-5ecret",
    "TAVILY_API_KEY": "tvly-test-perflab-5ecret",
    "SUPABASE_KEY": "sb-test-perflab-5ecret",
    "DATABASE_URL": "postgresql://app:pg-test-perflab-5ecret@127.0.0.1:1/app?connect_timeout=2",
}


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A perflab data folder the embedded server may use (outside pytest's tmp, see tests/_pg.py)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with _pg.server_folder() as folder:
        monkeypatch.setenv("PERFLAB_DATA_DIR", str(folder))
        yield folder


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.postgres
def test_db_lifecycle(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """status, start (twice), url, migrate, status, stop (twice) behave and say what they did."""
    if pgserver_problem() is not None:
        pytest.skip(str(pgserver_problem()))
    code, out = _run(capsys, "db", "status")
    assert code == 1 and "not created yet" in out and "perflab db start" in out
    code, out = _run(capsys, "db", "start")
    assert code == 0 and "is running" in out and str(data_dir / "postgres") in out
    try:
        code, out = _run(capsys, "db", "start")
        assert code == 0 and "already running" in out
        code, url = _run(capsys, "db", "url")
        assert code == 0 and url.strip().startswith("postgresql://postgres@/postgres?host=")
        code, out = _run(capsys, "db", "migrate")
        assert code == 0 and "match_cache_entries" in out
        code, out = _run(capsys, "db", "status")
        assert code == 0 and "(installed)" in out and "schema:   present" in out
    finally:
        code, out = _run(capsys, "db", "stop")
    assert code == 0 and "stopped" in out
    code, out = _run(capsys, "db", "stop")
    assert code == 0 and "was not running" in out
    code, out = _run(capsys, "db", "url")
    assert code == 2 and "perflab db start" in out


def test_migrate_print_shows_the_sql(capsys: pytest.CaptureFixture[str]) -> None:
    """`perflab db migrate --print` prints schema.sql for pasting into Supabase, touching no database."""
    code, out = _run(capsys, "db", "migrate", "--print")
    assert code == 0 and "create or replace function match_cache_entries" in out


@pytest.mark.parametrize(
    "argv",
    [("db", "status"), ("db", "url"), ("db", "migrate"), ("config", "show")],
    ids=lambda a: " ".join(a),
)
def test_no_secret_reaches_the_output(
    argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With test keys in the environment, nothing a command prints contains any of them."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    _, out = _run(capsys, *argv)
    assert out.strip()
    leaked = [name for name, value in SECRETS.items() if value in out or "5ecret" in out]
    assert not leaked, f"a secret was printed by perflab {' '.join(argv)}"


BAD_URL = "postgresql://app:pg-5ecret%zz@127.0.0.1:1/app"


@pytest.mark.parametrize("argv", [("db", "status"), ("db", "migrate")], ids=" ".join)
def test_malformed_url_error_hides_the_password(
    argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DATABASE_URL libpq can't parse is refused with a message that never quotes the password."""
    monkeypatch.setenv("DATABASE_URL", BAD_URL)
    code, out = _run(capsys, *argv)
    assert code == 2 and "not a valid PostgreSQL URL" in out
    assert "5ecret" not in out


def test_store_refuses_malformed_url_without_the_password() -> None:
    """PostgresStore raises ConfigError, with no trace of the password in it or its cause."""
    from perflab.backends.postgres import PostgresStore
    from perflab.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        PostgresStore(BAD_URL)
    assert "5ecret" not in str(info.value) and info.value.__cause__ is None
    assert info.value.__suppress_context__
