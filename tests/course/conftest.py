"""Fixtures for the course tests: the repository's outline, and a throwaway copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from perflab.course.outline import Outline, load_outline

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def outline() -> Outline:
    """The outline of the repository's curriculum."""
    return load_outline(ROOT)


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """A copy of the curriculum (notebooks, exercises, solutions, README) to break on purpose."""
    for name in ("notebooks", "exercises", "solutions"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns(".ipynb_*"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path
