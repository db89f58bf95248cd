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

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from perflab.grading import mounts

__all__ = [
    "MODES",
    "Confined",
    "Isolation",
    "become_subreaper",
    "choose",
    "confine",
    "cover",
    "kill_descendants",
    "start",
    "stop",
]

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


@dataclass(frozen=True)
class Confined:
    """What :func:`confine` put in place, seen from inside the run.

    Attributes:
        scratch: the run's folder as the runner named it ('' when not moved).
        root: where the run's folder is seen inside ('' when not moved).
        not_enforced: a sentence for each limit that could not be put in place.
    """

    scratch: str = ""
    root: str = ""
    not_enforced: tuple[str, ...] = ()

    def inside(self, path: str) -> str:
        """``path`` (under the run's folder) as seen from inside the run."""
        if self.root and (path == self.scratch or path.startswith(self.scratch + os.sep)):
            return self.root + path[len(self.scratch) :]
        return path


def _set_limits(jail: dict[str, Any], dropping_uid: bool) -> list[str]:
    """setrlimit the run's memory, CPU time, file size and (with a uid of its own) processes."""
    try:
        import resource
    except ImportError:  # Windows
        return ["no limits on memory, CPU time or processes (no setrlimit on this platform)"]
    missing: list[str] = []
    wanted = [
        ("memory", resource.RLIMIT_AS, jail.get("memory_mb"), 2**20),
        ("CPU time", resource.RLIMIT_CPU, jail.get("cpu_s"), 1),
        ("file size", resource.RLIMIT_FSIZE, jail.get("fsize_mb"), 2**20),
        ("core dumps", resource.RLIMIT_CORE, 0, 1),
    ]
    if dropping_uid:  # RLIMIT_NPROC counts a uid's processes: only a uid of its own works
        wanted.append(("processes", resource.RLIMIT_NPROC, jail.get("nproc"), 1))
    elif jail.get("nproc"):
        missing.append(
            "no limit on the number of processes (that needs a uid of the run's own: "
            "run the grader as root)"
        )
    for name, which, value, unit in wanted:
        if value is None:
            continue
        try:
            _, hard = resource.getrlimit(which)
            soft = int(value) * unit
            if hard != resource.RLIM_INFINITY:
                soft = min(soft, hard)
            resource.setrlimit(which, (soft, soft))
        except (ValueError, OSError):
            missing.append(f"no {name} limit (setrlimit refused)")
    return missing


def _hide_home(home: str, keep: list[str], scratch: str) -> bool:
    """Put an empty tmpfs over the grader's home, binding back (read-only) only ``keep``:
    the paths inside it the run needs, such as a Python installed there (pyenv)."""
    inside = _outermost(k for k in keep if k == home or k.startswith(home.rstrip("/") + "/"))
    staged = _stage(inside, scratch, "keep")
    if staged is None or not mounts.tmpfs(home, "size=1m,mode=0755"):
        return False
    return _bind_back(staged)


def _cover_tmp(scratch: str, keep: list[str]) -> bool:
    """Mount the run's folder on ``/tmp``, binding back (read-only) only ``keep``: the
    paths under ``/tmp`` the run needs, such as a checkout or a venv that lives there."""
    inside = _outermost(k for k in keep if k.startswith("/tmp/") and not scratch.startswith(k))
    staged = _stage(inside, scratch, "keep-tmp")
    if staged is None:
        return False
    # --rbind carries the staged mounts along, so they are still reachable under /tmp.
    if not mounts.bind(scratch, "/tmp", recursive=bool(staged)):
        return False
    moved = [(os.path.join("/tmp", os.path.relpath(st, scratch)), p) for st, p in staged]
    return _bind_back(moved)


def _outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those inside another (a venv inside a checkout comes with it)."""
    found = list(paths)
    return [k for k in found if not any(k.startswith(o.rstrip("/") + "/") for o in found)]


def _stage(paths: list[str], scratch: str, prefix: str) -> list[tuple[str, str]] | None:
    """Bind each path to a stage folder in ``scratch`` before it is covered; None on failure."""
    staged = []
    for i, path in enumerate(paths):
        stage = os.path.join(scratch, f".{prefix}{i}")
        os.makedirs(stage, exist_ok=True)
        if not mounts.bind(path, stage):
            return None
        staged.append((stage, path))
    return staged


def _bind_back(staged: list[tuple[str, str]]) -> bool:
    """Mount each stage read-only back at its path, then detach and remove the stage."""
    ok = True
    for stage, path in staged:
        os.makedirs(path, exist_ok=True)
        ok = ok and mounts.bind(stage, path) and mounts.remount_readonly(path)
        # Read-only first, so the stage is harmless even if it can't be detached at once.
        ok = mounts.remount_readonly(stage) and ok
        mounts.unmount(stage, lazy=True)
        with contextlib.suppress(OSError):
            os.rmdir(stage)
    return ok


def cover(folder: str) -> bool:
    """Mount an empty read-only tmpfs over ``folder`` (in this mount namespace)."""
    return mounts.tmpfs(folder, "size=16k,mode=0555", readonly=True)


def confine(jail: dict[str, Any]) -> Confined:
    """Confine this process (the worker) and the kernel it will start; best effort.

    Called by the worker as process 1 of the run's PID and mount namespaces, before
    the kernel starts. In order:

    * the run's folder is mounted on ``/tmp`` (and its ``tmp`` on ``/var/tmp``, a small
      tmpfs on ``/dev/shm``), so whatever a notebook writes to a temporary folder lands
      in the run's folder, where the runner lists it;
    * the grader's home is replaced by an empty tmpfs (with only the paths the run
      needs, such as a Python installed there, bound back read-only), the reference
      solutions are hidden under empty tmpfs mounts, and the checkout and the Python
      environment are mounted read-only;
    * memory, CPU time, file size and process count are limited (setrlimit);
    * when the grader runs as root, the kernel (not this worker) gets a uid of its own
      (``uid``, a throwaway one owning only the run's working folders, started by the
      worker, see ``perflab.grading._worker``), so the limit on processes counts the
      kernel's processes alone and file permissions keep it out of everything else,
      the worker's own folder included.

    Args:
        jail: what the runner asks for: ``scratch``, ``hide``, ``readonly``, ``uid``,
            ``home_hide``, ``keep``, ``memory_mb``, ``cpu_s``, ``fsize_mb``, ``nproc``
            (any may be absent).

    Returns:
        Where the run's folder is now seen, and what could not be enforced.
    """
    missing: list[str] = []
    scratch = str(jail.get("scratch", ""))
    root = ""
    if scratch and jail.get("mount"):
        home = str(jail.get("home_hide") or "")
        if (
            home
            and os.path.isdir(home)
            and not _hide_home(home, list(jail.get("keep", [])), scratch)
        ):
            missing.append(f"the grader's home {home} is readable as the grader's user can read it")
        if _cover_tmp(scratch, list(jail.get("keep", []))):
            root = "/tmp"
            if os.path.isdir("/var/tmp"):
                mounts.bind(os.path.join(scratch, "tmp"), "/var/tmp")
            if os.path.isdir("/dev/shm"):
                mounts.tmpfs("/dev/shm", "size=64m,mode=1777")
        else:
            missing.append("temporary folders are not redirected into the run's folder")
        for folder in jail.get("hide", []):
            if os.path.isdir(folder) and not cover(folder):
                missing.append(f"the reference solutions in {folder} are readable")
        for folder in jail.get("readonly", []):
            if os.path.isdir(folder) and not (
                mounts.bind(folder, folder) and mounts.remount_readonly(folder)
            ):
                missing.append(f"{folder} is writable")
    elif scratch:
        missing.append(
            "no mount namespace: temporary folders, the checkout and the reference "
            "solutions are reachable as the grader's user can reach them"
        )
    uid = jail.get("uid")
    # the kernel gets ``uid`` when the worker starts it (the worker stays root, out of
    # the kernel's reach); the limits set here are inherited by the kernel
    dropping = uid is not None and hasattr(os, "setuid") and os.geteuid() == 0
    missing += _set_limits(jail, dropping)
    if not dropping and jail:
        missing.append(
            "the kernel has the grader's own uid (the grader is not root, or its Python is "
            "not readable by other users): it can read and write what the grader's user "
            "can, outside the folders listed above, and its processes are not limited"
        )
    if root:  # HOME, JUPYTER_PATH, ... named the run's folder by its outside path
        for name, value in list(os.environ.items()):
            if scratch in value:
                os.environ[name] = value.replace(scratch, root)
    return Confined(scratch if root else "", root, tuple(missing))
