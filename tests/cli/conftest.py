"""Fixtures for the CLI tests: a clean environment, a cache to look at, a subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from perflab.clock import FakeClock
from perflab.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty perflab data folder; the test runs in tmp_path with no settings variables set."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    folder = tmp_path / "data"
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(folder))
    monkeypatch.setenv("PERFLAB_EMBEDDER", "hashing")  # fast and deterministic
    monkeypatch.chdir(tmp_path)
    return folder


@pytest.fixture
def populated(data_dir: Path) -> Path:
    """A cache with three fresh entries, one expired entry, two lookups (one hit, one miss)."""
    from perflab.compose import open_cache

    with open_cache(load_settings()) as cache:
        cache.put("how to tune a postgres connection pool", "use a pool of 2-10")
        cache.put("best python web framework", "it depends")
        cache.put("semantic cache similarity threshold", "0.8")
        assert cache.lookup("how to tune a postgres connection pool!").hit
        assert not cache.lookup("what is the weather in paris").hit
    # An entry created at the epoch expired long ago.
    with open_cache(load_settings(), clock=FakeClock(start=0.0)) as old:
        old.put("an old question", "an old answer")
    return data_dir / "cache.sqlite3"


@pytest.fixture
def run(data_dir: Path) -> Run:
    """Run ``python -m perflab ARGS`` (or another command) in a subprocess, text in and out."""

    def _run(
        *args: str, module: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "perflab", *args] if module else [sys.executable, *args]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            timeout=60,
            check=False,
        )

    return _run
