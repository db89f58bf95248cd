"""The code learners read stays typed and lint-clean (mypy --strict, ruff)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_package_passes_mypy_strict() -> None:
    """`mypy --strict perflab` finds no errors."""
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "perflab"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-4000:]


def test_code_passes_ruff() -> None:
    """`ruff check` is clean on the package, the tests and the benchmarks."""
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "perflab", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-4000:]
