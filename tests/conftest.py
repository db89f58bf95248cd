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
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's real perflab data folder and profile.

    API keys are left alone on purpose: tests that talk to the real services run
    when keys are set and skip, with the reason, when they are not.
    """
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path_factory.mktemp("perflab-data")))
    monkeypatch.delenv("PERFLAB_PROFILE", raising=False)
