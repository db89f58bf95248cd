"""Kernels forked from the worker's warm template (perflab.grading.kernel_fork).

A forked kernel must look, to the notebook, like one started from scratch: its own
process and session, the throwaway uid, the run's environment and folder, no descriptor
of the worker's, default signal handlers, a numpy generator seeded afresh, and nothing
the grader blocks for itself. Each run's is a new process (test_fast_pool's
independence test runs through it too). The runs go through the fork server, so each
is in a PID namespace of its own.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from perflab.grading import kernel_fork, kernel_pool, sandbox
from perflab.grading.reference import ReferenceCache
from perflab.grading.runner import CheckOptions, check_notebook

from ._helpers import cell, exercise, notebook, references, write

needs_pool = pytest.mark.skipif(
    not kernel_pool.available(sandbox.choose()),
    reason="the fork server needs Linux, root and PID namespaces (CI runs as root)",
)

PROBE = (
    "import os, sys, signal, atexit, json, numpy\n"
    "def link(f):\n"
    "    try:\n"
    "        return os.readlink(f'/proc/self/fd/{f}')\n"
    "    except OSError:\n"
    "        return ''\n"
    "files = [link(f) for f in map(int, os.listdir('/proc/self/fd')) if f > 2]\n"
    "facts = dict(\n"
    "    cmd=open('/proc/self/cmdline', 'rb').read().decode()[:90],\n"
    "    uid=os.getuid(), euid=os.geteuid(), groups=os.getgroups(),\n"
    "    leader=os.getpgid(0) == os.getpid() == os.getsid(0), parent=os.getppid(),\n"
    "    role=os.environ.get('PERFLAB_CHECK_ROLE'), path=len(sys.path), first=sys.path[0][-12:],\n"
    "    term=signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,\n"
    "    files=sorted(os.path.basename(x) for x in files if x.startswith('/') and not x.startswith('/proc/')),\n"
    "    blocked=[n for n, m in sys.modules.items() if m is None],\n"
    "    draw=int(numpy.random.randint(0, 2**31)),\n"
    ")\n"
    "raise RuntimeError('FACTS' + json.dumps(facts) + 'END')"
)


def _facts(tmp_path: Path, seeds: tuple[int, ...] = (3,)) -> list[dict[str, Any]]:
    import json

    refs = references(tmp_path / "refs", "ok")
    path = write(notebook(*exercise("ok"), cell(PROBE), exercises=["ok"]), tmp_path / "l.ipynb")
    report = check_notebook(
        path, CheckOptions(seeds=seeds, reference_dirs=refs, cache=ReferenceCache())
    )
    found = []
    for result in report.results:
        text = result.feedback
        if "FACTS" in text:
            found.append(json.loads(text.split("FACTS", 1)[1].split("END", 1)[0]))
    assert found, [r.feedback for r in report.results]
    return found


@needs_pool
def test_a_graded_kernel_is_forked_and_looks_started_from_scratch(
    tmp_path: Path, installed: Any
) -> None:
    facts = _facts(tmp_path)[0]
    assert "kernel_pool" in facts["cmd"], facts  # forked: the server's command line
    assert facts["uid"] == facts["euid"] != 0 and facts["groups"] == [], facts
    assert facts["leader"] and facts["parent"] == 1, facts  # its own session; the worker's child
    assert facts["role"] == "learner" and facts["term"], facts
    # no file of the worker's: only its log, the kernel's own stdout and stderr (which
    # ipykernel keeps a copy of), as for a kernel started from scratch
    assert set(facts["files"]) <= {"worker.log"} and facts["blocked"] == [], facts


@needs_pool
def test_each_forked_kernel_draws_its_own_random_numbers(tmp_path: Path, installed: Any) -> None:
    draws = {f["draw"] for f in _facts(tmp_path, seeds=(3, 4, 5))}
    assert len(draws) == 3, draws  # numpy's global generator is reseeded in every kernel


@needs_pool
def test_forked_kernels_can_be_turned_off_and_match_kernels_started_from_scratch(
    tmp_path: Path, installed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    forked = _facts(tmp_path / "forked")[0]
    monkeypatch.setenv("PERFLAB_CHECK_FORK_KERNEL", "0")
    started = _facts(tmp_path / "started")[0]
    assert "ipykernel_launcher" in started["cmd"] and "kernel_pool" not in started["cmd"], started
    # and the forked kernel saw what a kernel started from scratch sees
    for fact in ("groups", "leader", "parent", "role", "path", "first", "term", "files", "blocked"):
        assert forked[fact] == started[fact], (fact, forked, started)


def test_an_unused_template_exits_when_its_pipe_closes() -> None:
    template = kernel_fork.Template()
    # ready when made: its process group is its own, never this process's
    assert os.getpgid(template.pid) == template.pid != os.getpgid(0)
    template.close()
    _, status = os.waitpid(template.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with pytest.raises(RuntimeError, match="used or closed"):
        template.launch(["python"], {}, "/", 65534)


def test_a_forked_kernel_handle_polls_waits_and_kills_its_own_child() -> None:
    pid = os.fork()
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kernel = kernel_fork.ForkedKernel(pid)
    assert kernel.poll() is None
    with pytest.raises(Exception, match="timed out"):
        kernel.wait(timeout=0.05)
    kernel.kill()
    assert kernel.wait(timeout=10) == -signal.SIGKILL
    kernel.kill()  # reaped: signals nothing (its id may belong to another process now)
    assert kernel.poll() == -signal.SIGKILL


def test_only_a_python_ipykernel_command_is_forked() -> None:
    import sys

    assert kernel_fork.runs_here([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not kernel_fork.runs_here(["/usr/bin/setpriv", "--", sys.executable, "-m", "x"])
    assert not kernel_fork.runs_here([sys.executable, "-m", "other_kernel"])
