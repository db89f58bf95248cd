"""The fork server (perflab.grading.kernel_pool): workers forked warm, isolated all the same.

Every learner run still gets a fresh kernel in a PID namespace of its own. The kill and
escape tests of ``test_kill.py`` are run again here with the workers forked from the
server (the driver installs it, and fails when no run went through it).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perflab.grading import kernel_pool, sandbox
from perflab.grading.reference import ReferenceCache
from perflab.grading.runner import CheckOptions, check_notebook

from . import test_kill
from ._helpers import by_exercise, cell, exercise, notebook, references, write

pytestmark = pytest.mark.skipif(
    not kernel_pool.available(sandbox.choose()),
    reason="the fork server needs Linux, root and PID namespaces (CI runs as root)",
)

#: Put before test_kill's driver: the grader inside the test's namespace forks its
#: workers from the server, and the driver exits 3 if no run came from it.
POOLED = """
import atexit, os as _os
from perflab.grading import execute as _execute, kernel_pool as _pool
_pool.install(_execute)
_served = []
_start = _pool._SERVER.run
def _counted(*a, **k):
    _served.append(1)
    return _start(*a, **k)
_pool._SERVER.run = _counted
atexit.register(lambda: None if _served else _os._exit(3))
"""


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    """test_kill's driver with the fork server in place."""
    monkeypatch.setattr(test_kill, "DRIVER", POOLED + test_kill.DRIVER)


def test_ids_written_by_the_kernel_kill_nothing_with_forked_workers(
    tmp_path: Path, pooled: None
) -> None:
    test_kill.test_ids_written_by_the_kernel_kill_nothing_and_the_run_leaves_nothing(
        tmp_path, "pid-namespace"
    )


def test_kill_minus_one_reaches_only_its_own_run_with_forked_workers(
    tmp_path: Path, pooled: None
) -> None:
    test_kill.test_a_cell_that_kills_everything_reaches_only_its_own_run(tmp_path)


def test_the_run_cap_ends_every_process_with_forked_workers(tmp_path: Path, pooled: None) -> None:
    test_kill.test_the_run_cap_ends_every_process_of_the_run(tmp_path, "pid-namespace")


def test_escapes_are_blocked_with_forked_workers(tmp_path: Path, pooled: None) -> None:
    """Memory and process limits, the jail's writes and the kernel's view, forked."""
    import perflab

    root = Path(perflab.__file__).resolve().parents[1]
    targets = ["~/.bashrc", "/tmp/in-tmp.txt", str(root / "solutions" / "perflab-escape.txt")]
    cells = [
        cell(test_kill.ESCAPES[k].format(targets=targets) if k == "writes" else v)
        for k, v in test_kill.ESCAPES.items()
    ]
    nb = notebook(*exercise("ok"), *cells, exercises=["ok"])
    result = test_kill._in_namespace(
        tmp_path, nb, "pid-namespace", memory_mb=1024, max_processes=64
    )
    rows = " ".join(f for _, _, f in result["rows"])
    assert "raised MemoryError" in rows and "raised BlockingIOError" in rows, rows
    assert "written: ['~/.bashrc', '/tmp/in-tmp.txt']" in rows, rows
    assert "decoy visible: False" in rows and "uid 0," not in rows, rows
    assert result["left"] == [] and result["decoy_alive"], result
    assert not (root / "solutions" / "perflab-escape.txt").exists()


SEES = (
    "import os\n"
    "def read(path):\n"
    "    try:\n"
    "        return open(path, 'rb').read().decode(errors='replace')\n"
    "    except OSError:\n"
    "        return ''\n"
    "env = read('/proc/1/environ') + read('/proc/self/environ')\n"
    "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    "raise RuntimeError(f'parent {os.getppid()} pids {pids[:1]} secret {\"G2SECRET\" in env} '"
    "                   f'control {\"CONTROL_FD\" in env}')"
)


def test_a_forked_worker_is_process_1_of_a_fresh_namespace_and_holds_no_secret(
    tmp_path: Path, installed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel's parent is the worker, process 1 of the run's own PID namespace; neither
    the worker's environment (unreadable to the kernel, whose uid it dropped to) nor the
    kernel's holds the grader's secrets or the server's socket number."""
    monkeypatch.setenv("G2_API_TOKEN", "G2SECRET-value")
    kernel_pool.shutdown()  # a server started after the secret was set: it must not see it
    refs = references(tmp_path / "refs", "ok")
    path = write(notebook(*exercise("ok"), cell(SEES), exercises=["ok"]), tmp_path / "l.ipynb")
    seen = []
    run = installed.run
    installed.run = lambda *a, **k: seen.append(1) or run(*a, **k)
    try:
        report = check_notebook(
            path, CheckOptions(seeds=(3,), reference_dirs=refs, cache=ReferenceCache())
        )
    finally:
        installed.run = run
    assert len(seen) == 2  # the reference run and the learner's, both forked
    assert by_exercise(report)["ok"].status.value == "passed"
    text = " ".join(r.feedback for r in report.results)
    assert "parent 1 pids [1]" in text, text
    assert "secret False" in text and "control False" in text, text


def test_runs_are_independent_and_each_kernel_is_new(tmp_path: Path, installed: Any) -> None:
    """State a learner's run leaves in its kernel (a module attribute, a file in /tmp) is
    not seen by the next run, although both come from the same server."""
    refs = references(tmp_path / "refs", "ok")
    probe = cell(
        "import os, json\n"
        "seen = os.path.exists('/tmp/g2-mark')\n"
        "open('/tmp/g2-mark', 'w').write('x')\n"
        "import perflab\n"
        "before = getattr(perflab, 'g2_mark', None)\n"
        "perflab.g2_mark = os.getpid()\n"
        "raise RuntimeError(f'mark seen {seen} attr {before}')"
    )
    path = write(notebook(*exercise("ok"), probe, exercises=["ok"]), tmp_path / "l.ipynb")
    options = CheckOptions(seeds=(3, 4), reference_dirs=refs, cache=ReferenceCache())
    report = check_notebook(path, options)
    texts = [r.feedback for r in report.results if "mark seen" in r.feedback]
    assert texts and all("mark seen False attr None" in t for t in texts), report.results


def test_a_failed_worker_is_reported_and_the_server_is_only_the_graders(installed: Any) -> None:
    """A worker that fails returns its exit code; the control socket has no path (an
    unnamed socket pair), so nothing in a run can reach the server."""
    log = open(os.devnull, "wb")  # noqa: SIM115
    spec_free = [sys.executable, "-m", "perflab.grading._worker", "/nonexistent/spec.json"]
    proc = installed.run(spec_free, "/", {"PATH": os.environ["PATH"]}, log.fileno())
    assert proc.wait(timeout=60) != 0  # no spec: the worker fails, and says so
    control = installed._control
    assert control is not None and control.getsockname() == ""
    assert control.type == socket.SOCK_SEQPACKET
    log.close()


def test_start_falls_back_to_a_worker_started_from_scratch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Off (PERFLAB_CHECK_FORK_SERVER=0), or for another isolation, start is sandbox.start."""
    monkeypatch.setenv("PERFLAB_CHECK_FORK_SERVER", "0")
    assert not kernel_pool.available(sandbox.choose())
    monkeypatch.delenv("PERFLAB_CHECK_FORK_SERVER")
    assert not kernel_pool.available(sandbox.Isolation("subreaper"))
    proc = kernel_pool.start(
        [sys.executable, "-c", "pass"],
        sandbox.Isolation("subreaper"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert isinstance(proc, subprocess.Popen)
    kernel_pool.stop(proc, sandbox.Isolation("subreaper"))
    assert proc.returncode is not None
