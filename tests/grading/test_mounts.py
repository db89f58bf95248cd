"""perflab.grading.mounts: each call does what its util-linux command line would.

Run in a mount namespace of its own (``unshare --mount``, through a user namespace when
not root), so nothing is mounted on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import os, sys
from perflab.grading import mounts
base = sys.argv[1]
src, dst, tmp = (os.path.join(base, n) for n in ("src", "dst", "tmp"))
out = []
out.append(mounts.make_private("/"))
out.append(mounts.bind(src, dst))
out.append(os.path.exists(os.path.join(dst, "mark")))         # the bind shows src
out.append(mounts.remount_readonly(dst))
try:
    open(os.path.join(dst, "new"), "w").close()
    out.append("writable")
except OSError as exc:
    out.append(exc.errno == 30)                                # EROFS
out.append(mounts.unmount(dst))
out.append(os.path.exists(os.path.join(dst, "mark")))         # gone with the unmount
out.append(mounts.tmpfs(tmp, "size=16k,mode=0555", readonly=True))
out.append(os.listdir(tmp) == [] and not os.access(tmp, os.W_OK))  # empty, read-only
out.append(mounts.unmount(tmp, lazy=True))
out.append(mounts.bind(os.path.join(base, "missing"), dst))    # refused, not raised
print(out)
"""


def _prefix() -> list[str]:
    exe = shutil.which("unshare")
    if exe is None or not sys.platform.startswith("linux"):
        pytest.skip("needs Linux and util-linux unshare")
    return [exe, "--mount"] if os.geteuid() == 0 else [exe, "--map-root-user", "--mount"]


def test_bind_remount_tmpfs_and_unmount_in_a_namespace_of_their_own(tmp_path: Path) -> None:
    for name in ("src", "dst", "tmp"):
        (tmp_path / name).mkdir()
    (tmp_path / "src" / "mark").write_text("x")
    done = subprocess.run(
        [*_prefix(), sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode and "Operation not permitted" in done.stderr:
        pytest.skip(f"mount namespaces are not permitted here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        [True, True, True, True, True, True, False, True, True, True, False]
    ), done.stdout
    assert not (tmp_path / "dst" / "new").exists() and not (tmp_path / "dst" / "mark").exists()
