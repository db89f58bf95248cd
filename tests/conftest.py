"""Shared fixtures for the whole suite."""

from __future__ import annotations

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
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's real perflab data folder and .env keys."""
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path_factory.mktemp("perflab-data")))
    for key in ("OPENAI_API_KEY", "TAVILY_API_KEY", "SUPABASE_URL", "SUPABASE_KEY", "PERFLAB_PROFILE"):
        monkeypatch.delenv(key, raising=False)
