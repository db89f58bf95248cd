"""The grader run by an unprivileged user: the user-namespace path (``unshare --map-root-user``).

Everything else in tests/grading runs the grader as the test's own user (root in CI),
where the runs get a PID namespace without a user namespace and a throwaway uid for the
kernel. Here the grader itself runs as ``nobody`` (``setpriv --reuid=65534``; or as the
test's user when that is not root already), so each run is a user namespace in which the
worker is root of its own and the kernel runs with every capability dropped. Checked on
that path: a kill of every process the kernel can signal reaches only its run (a decoy of
the same user outside survives), the reference solutions are hidden, the environment is
an allowlist, and a kernel that rewrites the saved notebook and result is still reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._helpers import cell, exercise, notebook, references, write
from .test_tamper import FORGE

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
SECRET = "ghp_nonrootTokenThatMustNotLeak1234567890"


def _as_user() -> list[str]:
    """The command prefix that runs as an unprivileged user ([] when we already are one)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("the test runs as root and util-linux `setpriv` is missing to drop to nobody")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def _reachable(prefix: list[str]) -> list[str]:
    """``prefix``, run in a mount namespace where this Python is reachable by nobody.

    The venv's Python may live under a folder only root may enter (pyenv in /root): a
    machine whose graders are unprivileged has its Python where they can run it. As root,
    the test makes that so for its own mount namespace only: the blocked folder is
    covered by a tmpfs that others may enter, with the one path needed bound back.
    """
    if not prefix:
        return []
    real = Path(os.path.realpath(sys.executable))
    blocked = next(
        (a for a in reversed(real.parents) if a != Path("/") and not a.stat().st_mode & 0o001),
        None,
    )
    if blocked is None:
        return prefix
    keep = real.parents[len(real.parents) - len(blocked.parts) - 1]
    stage = tempfile.mkdtemp(prefix="perflab-nonroot-stage-")
    script = (
        f"mount --bind {keep} {stage} && mount -t tmpfs -o mode=0755 tmpfs {blocked} && "
        f"mkdir -p {keep} && mount --bind {stage} {keep} && umount -l {stage} && "
        'exec "$@"'
    )
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh", *prefix]


def _userns_reason(prefix: list[str]) -> str:
    """'' when an unprivileged user may make a user + PID namespace here; else why not."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "util-linux `unshare` is missing"
    probe = [unshare, "--map-root-user", "--pid", "--fork", "--kill-child", "--mount-proc"]
    done = subprocess.run(
        [*prefix, *probe, sys.executable, "-c", "import os; print(os.getpid(), os.getuid())"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0 or done.stdout.split() != ["1", "0"]:
        sysctl = Path("/proc/sys/kernel/unprivileged_userns_clone")
        extra = (
            f"; kernel.unprivileged_userns_clone={sysctl.read_text().strip()}"
            if sysctl.exists()
            else ""
        )
        limit = Path("/proc/sys/user/max_user_namespaces")
        extra += f"; user.max_user_namespaces={limit.read_text().strip()}" if limit.exists() else ""
        return (
            "an unprivileged user may not make a user namespace here "
            f"(`unshare --map-root-user` exited {done.returncode}: {done.stderr.strip()[:200]}{extra})"
        )
    return ""


RUN = r"""
import json, sys
from pathlib import Path
from perflab.grading import sandbox
from perflab.grading.runner import CheckOptions, check_notebook
cases = json.loads(sys.argv[1])
iso = sandbox.choose()
out = {"uid": __import__("os").geteuid(), "isolation": iso.mode, "prefix": list(iso.prefix), "reports": {}}
for name, (nb, refs) in cases.items():
    options = CheckOptions(seeds=(7,), timeout_s=30, output_cap_bytes=1_000_000,
                           interrupt_grace_s=2, reference_dirs=(Path(refs),))
    report = check_notebook(Path(nb), options)
    out["reports"][name] = [[r.exercise, r.status.value, r.feedback] for r in report.results]
print("RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def nonroot() -> Iterator[dict[str, Any]]:
    """Grade the hostile notebooks as an unprivileged user, once for the module."""
    prefix = _reachable(_as_user())
    reason = _userns_reason(prefix)
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="perflab-nonroot-", dir="/tmp"))
    try:
        for sub in ("home", "tmp", "work"):
            (folder / sub).mkdir()
        decoy = subprocess.Popen([*prefix, sys.executable, "-c", "import time; time.sleep(600)"])
        try:
            yield _grade(folder, prefix, decoy)
        finally:
            decoy.kill()
            decoy.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _grade(folder: Path, prefix: list[str], decoy: subprocess.Popen[bytes]) -> dict[str, Any]:
    work = folder / "work"
    ref_file = work / "refs" / "test-notebook.ipynb"
    hidden_todo = f"import os\nanswer_hidden = int(os.path.exists({str(ref_file)!r}))"
    hidden_check = (
        "check_equal('hidden', 'the reference solution is out of reach', answer_hidden, 0)"
    )
    env_todo = "import os\nanswer_env = os.environ.get('GITHUB_TOKEN', 'none')"
    env_check = "check_equal('env', 'no token in the kernel', answer_env, 'none')"
    kill = (
        "import os, signal, glob\n"
        f"for target in ({decoy.pid}, -1):\n"
        "    try:\n        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass\n"
        "for path in glob.glob('../**/*', recursive=True):\n"
        "    try:\n"
        f"        open(path, 'w').write('{decoy.pid}') if os.path.isfile(path) else None\n"
        "    except OSError:\n        pass\n"
    )
    caps_todo = (
        "answer_caps = [line.split()[1] for line in open('/proc/self/status')\n"
        "               if line.startswith(('CapEff', 'CapPrm', 'CapBnd'))]"
    )
    caps_check = "check_equal('caps', 'the kernel has no capability', answer_caps, ['0' * 16] * 3)"
    checks = {"hidden": hidden_check, "env": env_check, "caps": caps_check}
    answers = {"hidden": hidden_todo, "env": env_todo, "caps": caps_todo}
    refs = references(work / "refs", "ok", "hidden", "env", "caps", checks=checks, **answers)
    attacks = notebook(
        *exercise("ok"),
        cell(hidden_todo, "hidden", "todo"),
        cell(hidden_check, "hidden", "check"),
        cell(env_todo, "env", "todo"),
        cell(env_check, "env", "check"),
        cell(caps_todo, "caps", "todo"),
        cell(caps_check, "caps", "check"),
        cell(kill),
        exercises=["ok", "hidden", "env", "caps"],
    )
    attacks.metadata["perflab"]["manifest"]["checks"] = {}
    write(attacks, work / "attacks.ipynb")
    forge_refs = references(work / "forge_refs", "ok", "bad")
    forged = notebook(
        *exercise("ok"),
        cell("raise RuntimeError('this cell must be reported')"),
        *exercise("bad", "answer_bad = -1"),
        cell(FORGE),
        exercises=["ok", "bad"],
    )
    write(forged, work / "forged.ipynb")
    if os.geteuid() == 0:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
    cases = {
        "attacks": [str(work / "attacks.ipynb"), str(refs[0])],
        "forged": [str(work / "forged.ipynb"), str(forge_refs[0])],
    }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder / "home"),
        "TMPDIR": str(folder / "tmp"),
        "GITHUB_TOKEN": SECRET,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "PERFLAB_CHECK_FORK_SERVER": "0",
    }
    started = time.monotonic()
    done = subprocess.run(
        [*prefix, sys.executable, "-c", RUN, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=str(ROOT),
        env=env,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    result["decoy_alive"] = decoy.poll() is None
    result["seconds"] = round(time.monotonic() - started, 1)
    result["stdout"] = done.stdout
    return result


def _rows(result: dict[str, Any], name: str) -> dict[str, list[Any]]:
    return {r[0]: r for r in result["reports"][name] if r[0] != "(notebook)"}


def _notes(result: dict[str, Any], name: str) -> list[list[Any]]:
    return [r for r in result["reports"][name] if r[0] == "(notebook)"]


def test_the_grader_ran_unprivileged_in_a_user_namespace(nonroot: dict[str, Any]) -> None:
    """The path under test: not root, and runs isolated with ``--map-root-user``."""
    assert nonroot["uid"] != 0
    assert nonroot["isolation"] == "pid-namespace"
    assert "--map-root-user" in nonroot["prefix"]


def test_kill_everything_spares_a_decoy_of_the_same_user(nonroot: dict[str, Any]) -> None:
    """kill(decoy) and kill(-1) from the kernel, and the decoy's id written everywhere:
    the decoy (same uid as the grader, outside the run) and the grader survive."""
    assert nonroot["decoy_alive"]
    rows = _rows(nonroot, "attacks")
    assert rows["ok"][1] == "passed", rows["ok"]


def test_reference_solutions_are_hidden(nonroot: dict[str, Any]) -> None:
    """The kernel can't see the reference solution's file."""
    row = _rows(nonroot, "attacks")["hidden"]
    assert row[1] == "passed", row


def test_environment_is_an_allowlist(nonroot: dict[str, Any]) -> None:
    """A token in the grader's environment never reaches the kernel, nor any report."""
    row = _rows(nonroot, "attacks")["env"]
    assert row[1] == "passed", row
    assert SECRET not in nonroot["stdout"]


def test_the_kernel_has_no_capability_in_its_user_namespace(nonroot: dict[str, Any]) -> None:
    """Root of the run's user namespace is the worker; the kernel has no capability left
    (so it can't unmount what covers the worker's folder, or trace the worker)."""
    row = _rows(nonroot, "attacks")["caps"]
    assert row[1] == "passed", row


def test_rewritten_output_files_are_still_reported(nonroot: dict[str, Any]) -> None:
    """Without a second uid, the kernel still can't rewrite the saved notebook or result."""
    rows = _rows(nonroot, "forged")
    assert rows["ok"][1] == "passed", rows["ok"]
    assert rows["bad"][1] == "failed", rows["bad"]
    errors = [r for r in _notes(nonroot, "forged") if r[1] == "error"]
    assert any("this cell must be reported" in r[2] for r in errors), _notes(nonroot, "forged")
