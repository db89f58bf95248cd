"""Fixtures for the grading tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def repo() -> Path:
    """The repository root (solutions/ and exercises/ live there)."""
    return Path(__file__).resolve().parents[2]
