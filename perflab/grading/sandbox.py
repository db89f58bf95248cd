"""Start one grading run so that every process it makes can be ended, and nothing else.

The runner starts the worker (and through it the learner's kernel) with :func:`start`
and ends it with :func:`stop`. The process ids it signals are only the ones it got back
from ``subprocess.Popen``: never a number read from a file, an environment variable or
anything else the learner's code can write. Three ways to end a run, best first:

* ``pid-namespace`` (Linux with util-linux ``unshare``): the worker is process 1 of a
  PID namespace made for this run. When it exits, or when the runner kills ``unshare``,
  the kernel ends every process in that namespace, including daemons a cell started
  with ``start_new_session=True`` or a double fork. A cell can't signal anything
  outside it either: ``os.kill(-1, ...)`` reaches only the run's own processes.
* ``subreaper`` (Linux without ``unshare``): the worker marks itself a child subreaper,
  so orphans of the kernel stay its descendants, and it kills all of them before it
  exits. A worker killed by force can still leave orphans behind.
* ``process-tree`` (other platforms): the worker kills the descendants it can still
  see when it exits. A daemon that double-forked away is not found.

``describe()`` says which is in force and what is therefore not enforced.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["MODES", "Isolation", "become_subreaper", "choose", "kill_descendants", "start", "stop"]

#: The ways of ending a run, strongest first.
MODES = ("pid-namespace", "subreaper", "process-tree")

_NOT_ENFORCED = {
    "pid-namespace": "",
    "subreaper": (
        "no PID namespace (util-linux `unshare` missing or not permitted): a learner "
        "process can signal other processes of the grader's user, and may outlive a "
        "run that was killed by force"
    ),
    "process-tree": (
        "no PID namespace or subreaper on this platform: a learner process can signal "
        "other processes of the grader's user, and a daemon that double-forked away "
        "may outlive its run"
    ),
}


@dataclass(frozen=True)
class Isolation:
    """How runs are started and ended.

    Attributes:
        mode: one of :data:`MODES`.
        prefix: the command put in front of the worker's (empty unless a namespace).
    """

    mode: str
    prefix: tuple[str, ...] = ()

    @property
    def not_enforced(self) -> str:
        """What this mode can't guarantee, in a sentence ('' for the PID namespace)."""
        return _NOT_ENFORCED[self.mode]


def _unshare_prefix(map_root: bool) -> tuple[str, ...]:
    exe = shutil.which("unshare")
    if exe is None:
        return ()
    prefix = [exe, "--pid", "--fork", "--kill-child", "--mount-proc"]
    if map_root:
        prefix.insert(1, "--map-root-user")
    return tuple(prefix)


@cache
def _probe_namespace() -> tuple[str, ...]:
    """The ``unshare`` prefix that works here, or () when none does."""
    if not sys.platform.startswith("linux"):
        return ()
    for map_root in (os.geteuid() != 0, True):
        prefix = _unshare_prefix(map_root)
        if not prefix:
            return ()
        try:
            done = subprocess.run(
                [*prefix, sys.executable, "-c", "import os; print(os.getpid())"],
                capture_output=True,
                check=False,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and done.stdout.strip() == "1":
            return prefix
    return ()


def choose(wanted: str = "auto") -> Isolation:
    """The isolation to use: the strongest available, or the one asked for.

    Args:
        wanted: ``"auto"`` or one of :data:`MODES`.

    Raises:
        ValueError: ``wanted`` is not a known mode, or it is not available here.
    """
    if wanted not in ("auto", *MODES):
        raise ValueError(f"isolation must be 'auto' or one of {', '.join(MODES)}; got {wanted!r}")
    linux = sys.platform.startswith("linux")
    if wanted in ("auto", "pid-namespace"):
        prefix = _probe_namespace()
        if prefix:
            return Isolation("pid-namespace", prefix)
        if wanted == "pid-namespace":
            raise ValueError(
                "isolation 'pid-namespace' needs Linux and util-linux `unshare` with "
                "permission to create namespaces (root, or user namespaces enabled)"
            )
    if wanted in ("auto", "subreaper"):
        if linux:
            return Isolation("subreaper")
        if wanted == "subreaper":
            raise ValueError("isolation 'subreaper' needs Linux")
    return Isolation("process-tree")


def start(argv: list[str], isolation: Isolation, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the run's top process, in a session of its own.

    The returned process's id is the one :func:`stop` signals; it is always a child of
    this process, so it is > 1 and names nothing but this run.
    """
    env = dict(popen.pop("env", None) or os.environ)
    env["PERFLAB_CHECK_ISOLATION"] = isolation.mode
    return subprocess.Popen([*isolation.prefix, *argv], env=env, start_new_session=True, **popen)


def stop(proc: subprocess.Popen[bytes], isolation: Isolation, grace_s: float = 5.0) -> None:
    """End the run ``proc`` is the top of, and every process of it that can be found.

    In a PID namespace, killing the top process ends the namespace and all in it.
    Otherwise the worker is first asked (SIGTERM) to kill its descendants and exit,
    and after ``grace_s`` its process group is killed. Safe to call more than once.
    """
    pid = proc.pid
    if pid <= 1:  # never kill(-1) or kill(0): that is every process we may signal
        raise ValueError(f"refusing to signal process group {pid}")
    # Signal only while ``proc`` is not yet reaped: until then its id can't be reused,
    # so the group named ``pid`` is this run's and no one else's.
    if isolation.mode != "pid-namespace" and proc.poll() is None:
        _signal_group(pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    if proc.poll() is None:
        _signal_group(pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    if pgid <= 1:
        raise ValueError(f"refusing to signal process group {pgid}")
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def become_subreaper() -> bool:
    """Mark this process a child subreaper (Linux); True when that worked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_child_subreaper = 36
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def kill_descendants(rounds: int = 50) -> int:
    """Stop, then kill, every descendant of this process until none is left.

    Descendants are stopped before they are killed, so a fork bomb can't outrun the
    loop for long. Returns how many processes were killed.
    """
    import psutil

    me = psutil.Process()
    killed = 0
    for _ in range(rounds):
        try:
            children = me.children(recursive=True)
        except psutil.Error:
            break
        if not children:
            break
        for child in children:
            try:
                child.suspend()
            except psutil.Error:
                pass
        for child in children:
            try:
                child.kill()
                killed += 1
            except psutil.Error:
                pass
        psutil.wait_procs(children, timeout=1)
        _reap()
        time.sleep(0.01)
    return killed


def _reap() -> None:
    """Collect exited children, so the descendants check sees only live ones."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
