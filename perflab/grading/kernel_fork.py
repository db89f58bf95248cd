"""The learner's kernel, forked from a warm template instead of started from scratch.

A fresh ``python -m ipykernel_launcher`` spends about 0.6 CPU-seconds before the
notebook's first line does any work: Python's start, IPython and ipykernel, then
numpy and perflab, which every exercise imports. Paid by each of a room's 480 runs,
that is a quarter of grading it (``benchmarks/grading.py``).

The fork server (:mod:`perflab.grading.kernel_pool`) imports those modules once
(:data:`WARM_MODULES`). Each run's worker, forked from it, forks a :class:`Template`
right after it has confined itself (mounts, limits) and before anything else: the
template is a copy of the server's warm state that has run nothing, in the run's own
PID and mount namespaces, with no open file but the pipe it waits on. When papermill
starts the kernel, the template gets the kernel's command, environment, folder and
uid, takes them as ``subprocess.Popen`` would (uid and groups, a session of its own,
default signal handlers, nothing of the worker's exit hooks), and runs
``ipykernel_launcher`` in place. So every run still gets a kernel process of its own
that no other run touched; it only skips the imports.

A template is used only where the kernel gets a throwaway uid of its own (the grader is
root, see :mod:`perflab.grading.sandbox`): dropping root there is one ``setuid``. In every
other case, and for any command that is not ``python -m ipykernel_launcher``, the kernel
is started from scratch as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

__all__ = ["WARM_MODULES", "ForkedKernel", "Template", "install"]

#: What a kernel imports before the notebook's first cell, and what every exercise
#: imports: the fork server imports them once. Not matplotlib or pandas, which read
#: their settings from the environment at import (MPLBACKEND and the like).
WARM_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel_launcher",
    "numpy",
    "perflab.grading",
    "perflab.grading.checks",
    "perflab.sim",
    "perflab.metrics",
    "perflab.formulas",
    "perflab.cache",
    "perflab.clock",
)

_PR_SET_DUMPABLE = 4


class ForkedKernel:
    """The kernel forked from a template, as jupyter_client's provisioner sees it.

    It offers what ``LocalProvisioner`` uses of a ``subprocess.Popen``. The only
    process id it signals is its own child's, known from ``fork()``.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None

    def poll(self) -> int | None:
        """The exit code, or None while the kernel runs."""
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: it has ended
                self.returncode = -signal.SIGKILL
                return self.returncode
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel's end; ``subprocess.TimeoutExpired`` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("ipykernel_launcher", timeout or 0.0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel (not once it has been reaped: its id may be reused)."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        """SIGTERM, as ``Popen.terminate``."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL, as ``Popen.kill``."""
        self.send_signal(signal.SIGKILL)


class Template:
    """A forked copy of this (warm, single-threaded) process, waiting to become a kernel.

    Make it before any thread or event loop starts, and before opening anything the
    kernel must not have: it keeps no descriptor but its pipe. :meth:`launch` uses it
    once; if it is never used it exits when this process closes the pipe or ends.
    """

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        ready_read, ready_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the template
            code = 1
            try:
                os.close(write_end)
                os.close(ready_read)
                code = _wait_and_become_kernel(read_end, ready_write)
            except BaseException:  # noqa: BLE001 - into the worker's log, as a kernel would
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(read_end)
        os.close(ready_write)
        # the provisioner signals the kernel's process group: it must be the template's
        # own before anyone can ask for it (EOF: the template died first)
        os.read(ready_read, 1)
        os.close(ready_read)
        self.pid = pid
        self._pipe: int | None = write_end

    def launch(
        self, argv: list[str], env: dict[str, str], cwd: str, uid: int, gid: int | None = None
    ) -> ForkedKernel:
        """Make the template the kernel ``argv`` names, as ``uid`` (and group ``gid``,
        default the same number), in ``cwd`` with ``env``."""
        if self._pipe is None:
            raise RuntimeError("this template has been used or closed")
        group = uid if gid is None else gid
        launch = {"argv": argv, "env": env, "cwd": cwd, "uid": uid, "gid": group}
        data = json.dumps(launch).encode()
        with os.fdopen(self._pipe, "wb") as pipe:
            self._pipe = None
            pipe.write(data)
        return ForkedKernel(self.pid)

    def close(self) -> None:
        """Let an unused template exit (its pipe closes)."""
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None


def runs_here(argv: list[str]) -> bool:
    """Whether ``argv`` is a kernel a template can become: ``python -m ipykernel_launcher``."""
    return argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]


def _wait_and_become_kernel(pipe: int, ready: int) -> int:
    """In the template: wait for the launch, then run the kernel; the exit code."""
    os.setsid()  # a process group of its own: the provisioner signals the group
    os.write(ready, b"1")
    os.close(ready)
    os.closerange(3, pipe)
    os.closerange(pipe + 1, 65536)
    chunks = []
    while chunk := os.read(pipe, 1 << 16):
        chunks.append(chunk)
    os.close(pipe)
    if not chunks:  # the worker closed the pipe: not needed
        return 0
    launch = json.loads(b"".join(chunks))
    _take_identity(int(launch["uid"]), int(launch["gid"]))
    _fresh_process_state(launch["env"], launch["cwd"])
    import runpy

    sys.argv = ["ipykernel_launcher", *launch["argv"][3:]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
    return 0


def _take_identity(uid: int, gid: int) -> None:
    """Become ``uid`` in group ``gid`` and no other, as ``Popen(user=, group=, extra_groups=[])``."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getegid() == 0:
        raise PermissionError("the kernel is still root after setuid")
    # a uid change makes a process non-dumpable; an exec'd kernel is dumpable (by its
    # own uid only, as now)
    import ctypes

    ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)


def _fresh_process_state(env: dict[str, str], cwd: str) -> None:
    """What a process started from scratch would have, and the worker's copy differs in."""
    import atexit

    atexit._clear()  # the worker's exit hooks are not the kernel's
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    os.environ.clear()
    os.environ.update(env)
    _scrub_startup_environment()
    os.chdir(cwd)
    sys.path[0] = cwd  # as ``python -m``: the working folder first
    # imports the grader blocks for itself (perflab.grading.slow_imports) are the
    # notebook's to make
    for name in [n for n, m in sys.modules.items() if m is None]:
        del sys.modules[name]
    if "numpy" in sys.modules:  # its global generator was seeded once, in the server
        sys.modules["numpy"].random.seed()


def _scrub_startup_environment() -> None:
    """Zero the environment this process image started with: the fork server's.

    ``/proc/self/environ`` reads those bytes (an exec'd kernel would show its own
    environment there). ``os.environ`` has been replaced by now, and the C library's
    copy with it, so nothing refers to them any more."""
    import ctypes

    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # from field 3 on (see proc(5))
    start, end = int(fields[50 - 3]), int(fields[51 - 3])  # env_start, env_end
    if 0 < start < end:
        ctypes.memset(start, 0, end - start)


def install(template: Template) -> None:
    """Have jupyter_client start the next kernel from ``template`` (this process only).

    Commands other than ``python -m ipykernel_launcher``, kernels without a uid of
    their own, and any launch after the first are started from scratch as before.
    """
    from jupyter_client.provisioning import local_provisioner

    original = local_provisioner.launch_kernel  # type: ignore[attr-defined]

    def launch_kernel(cmd: list[str], **kw: Any) -> Any:
        uid = kw.get("user")
        if template._pipe is None or not isinstance(uid, int) or not runs_here(cmd):
            template.close()
            return original(cmd, **kw)
        env = {str(k): str(v) for k, v in (kw.get("env") or os.environ).items()}
        gid = kw.get("group")
        cwd = str(kw.get("cwd") or os.getcwd())
        return template.launch(cmd, env, cwd, uid, gid if isinstance(gid, int) else None)

    local_provisioner.launch_kernel = launch_kernel  # type: ignore[attr-defined,assignment]
