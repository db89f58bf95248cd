"""Fixtures for the grading tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perflab.grading import execute, kernel_pool


@pytest.fixture
def repo() -> Path:
    """The repository root (solutions/ and exercises/ live there)."""
    return Path(__file__).resolve().parents[2]


@pytest.fixture
def installed() -> Any:
    """The fork server, in this process, for one test (then shut down)."""
    before = kernel_pool.install(execute)
    yield kernel_pool._SERVER
    kernel_pool.uninstall(execute, before)
    kernel_pool.shutdown()
