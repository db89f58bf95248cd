"""kernel_pool: the grader's processes start without rfc3987_syntax and lose nothing
(skip_slow_imports); a failed step of a run's set-up raises."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import sys
from perflab.grading.kernel_pool import skip_slow_imports
print(skip_slow_imports())
import nbformat
from nbformat.v4 import new_notebook
nbformat.validate(new_notebook())
bad = new_notebook()
bad.cells.append({"cell_type": "code"})
try:
    nbformat.validate(bad)
except nbformat.ValidationError:
    print("invalid refused")
print(sys.modules.get("rfc3987_syntax") is None)
"""


def test_blocked_module_is_not_imported_and_validation_still_works() -> None:
    """After skip_slow_imports, importing nbformat loads no rfc3987_syntax, and an invalid
    notebook is still refused."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split("\n")
    assert out[0] == "['rfc3987_syntax']"
    assert "invalid refused" in out
    assert out[-2] == "True"


def test_an_already_imported_module_is_left_alone() -> None:
    """A module imported before the call is not replaced (nothing breaks mid-process)."""
    script = (
        "import sys, types; sys.modules['rfc3987_syntax'] = types.ModuleType('rfc3987_syntax')\n"
        "from perflab.grading.kernel_pool import skip_slow_imports\n"
        "print(skip_slow_imports(), sys.modules['rfc3987_syntax'] is not None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "[] True"


def test_a_refused_mount_or_libc_call_raises_with_its_errno() -> None:
    """The run's set-up stops on a failed step: a mounts call's False, a libc call's -1."""
    from perflab.grading.kernel_pool import _check

    for refused in (False, -1):
        with pytest.raises(OSError, match="mount / private"):
            _check(refused, "mount / private")
    _check(True, "ok")
    _check(0, "ok")
