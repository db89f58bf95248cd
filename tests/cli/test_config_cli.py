"""``perflab config show | profiles``: values, sources, and secrets that never leak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perflab.cli import main
from tests.cli.conftest import Run

FAKE_KEY = "sk-test-SECRET123"


def test_config_show_masks_secrets_everywhere(run: Run, data_dir: Path) -> None:
    """A key set in the environment or .env appears in neither stdout nor stderr, text or JSON."""
    Path(".env").write_text(f"TAVILY_API_KEY={FAKE_KEY}\nPERFLAB_PROFILE=agency\n")
    env = {"OPENAI_API_KEY": FAKE_KEY, "DATABASE_URL": "postgresql://u:SECRET123@h/db"}
    text = run("config", "show", env=env)
    as_json = run("config", "show", "--json", env=env)
    for done in (text, as_json):
        assert done.returncode == 0, done.stderr
        assert "SECRET123" not in done.stdout + done.stderr
    assert "OPENAI_API_KEY              •••••• (set)" in text.stdout
    assert "SUPABASE_KEY                (not set)" in text.stdout
    rows = {row["variable"]: row for row in json.loads(as_json.stdout)}
    assert rows["TAVILY_API_KEY"] == {
        "variable": "TAVILY_API_KEY",
        "value": "•••••• (set)",
        "source": ".env",
    }
    assert rows["DATABASE_URL"]["source"] == "environment"


def test_config_show_says_where_each_value_came_from(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each row carries its source: default, profile NAME, environment, .env."""
    Path(".env").write_text("PERFLAB_PROFILE=budget\nCHUNK_SIZE=500\n")
    monkeypatch.setenv("PARALLEL_WORKERS", "2")
    assert main(["config", "show", "--json"]) == 0
    rows = {
        row["variable"]: (row["value"], row["source"])
        for row in json.loads(capsys.readouterr().out)
    }
    assert rows["CACHE_SIMILARITY_THRESHOLD"] == (0.7, "profile budget")
    assert rows["PARALLEL_WORKERS"] == (2, "environment")
    assert rows["CHUNK_SIZE"] == (500, ".env")
    assert rows["CONNECTION_POOL_MAX"] == (10, "default")
    assert rows["PERFLAB_CACHE_PATH"] == (str(data_dir / "cache.sqlite3"), "default")


def test_config_show_with_profile_flag(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`config show --profile realtime` shows what that profile would give, with its note."""
    assert main(["config", "show", "--profile", "realtime"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("profile: realtime (guide scenario 3")
    assert "CONNECTION_POOL_MIN         10" in out


def test_config_show_unknown_profile_is_an_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown profile is one error line listing the allowed ones."""
    assert main(["config", "show", "--profile", "turbo"]) == 2
    assert (
        "PERFLAB_PROFILE=turbo (passed in code) is not allowed: use one of budget"
        in capsys.readouterr().err
    )


def test_config_profiles_lists_the_guides_values(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`config profiles --json` gives every profile's variables."""
    assert main(["config", "profiles", "--json"]) == 0
    profiles = json.loads(capsys.readouterr().out)
    assert profiles["budget"] == {
        "CACHE_SIMILARITY_THRESHOLD": 0.7,
        "CACHE_TTL_DAYS": 30,
        "TAVILY_SEARCH_DEPTH": "basic",
        "PARALLEL_WORKERS": 1,
    }
    assert set(profiles) == {"budget", "agency", "realtime", "dev", "prod"}
