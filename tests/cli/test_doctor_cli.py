"""``perflab doctor``: versions, backends, what runs simulated; no secrets, no network by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.cli import main


def test_doctor_reports_versions_and_simulated_services(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default the doctor lists package versions and says the LLM and search are simulated."""
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code in (0, 1)  # 1 only when a required package is missing here
    assert "pydantic-settings" in out and "numpy" in out
    assert "SIMULATED (PERFLAB_LLM_BACKEND=sim)" in out
    assert "simulated: llm, search" in out
    assert "hashing" in out


def test_doctor_flags_a_real_backend_without_its_key(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Choosing the real search backend without TAVILY_API_KEY is a problem: exit code 1."""
    monkeypatch.setenv("PERFLAB_SEARCH_BACKEND", "tavily")
    assert main(["doctor"]) == 1
    assert "PERFLAB_SEARCH_BACKEND=tavily but TAVILY_API_KEY is not set" in capsys.readouterr().out


def test_doctor_never_prints_secrets(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keys and the database password appear nowhere in the report."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET123")
    monkeypatch.setenv("PERFLAB_LLM_BACKEND", "openai")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:SECRET123@127.0.0.1:1/db")
    main(["doctor"])
    captured = capsys.readouterr()
    assert "SECRET123" not in captured.out + captured.err
    assert "DATABASE_URL set" in captured.out


def test_doctor_check_network_reports_unreachable_database(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check-network tries the configured database (a closed loopback port here) and says so."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:SECRET123@127.0.0.1:1/db")
    assert main(["doctor", "--check-network"]) == 1
    out = capsys.readouterr().out
    assert "NOT reachable: 127.0.0.1:1" in out
    assert "SECRET123" not in out


def test_doctor_reports_a_bad_setting_instead_of_crashing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid value is reported as a problem, and the rest of the report still prints."""
    monkeypatch.setenv("PARALLEL_WORKERS", "0")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PARALLEL_WORKERS=0" in out and "numpy" in out


def test_doctor_spots_a_cache_file_that_is_not_sqlite(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cache file that is not SQLite is flagged (and not opened)."""
    data_dir.mkdir(parents=True)
    (data_dir / "cache.sqlite3").write_bytes(b"garbage")
    assert main(["doctor"]) == 1
    assert "is not a SQLite file" in capsys.readouterr().out
