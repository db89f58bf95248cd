"""Start-up costs of a grading run, and how to cut them without sharing a process.

Every run of ``perflab check`` starts two fresh processes: a worker that imports papermill
and drives the notebook, and the kernel the notebook runs in. Measured with
``benchmarks/grading.py``, most of a short exercise's time is spent before its first cell:
one second of it is one import that grading never needs (see ``skip_slow_imports``), and
about 0.8 CPU-seconds more is the worker's own start (Python, papermill, nbclient,
jupyter_client, nbformat), paid again by every run.

The fork server (:class:`ForkServer`) pays that once. It is the curriculum's pool-warming
lesson applied to the grader: one process, started clean, imports the worker's modules
and then only forks. For each run it forks a child that makes a new PID and mount
namespace and forks the run's worker into it as process 1, exactly as
``unshare --pid --fork --kill-child --mount-proc`` does for a worker started from
scratch. The worker then confines itself and starts the learner's kernel, a process of
the run's own: forked from a template of the server's warm state when the kernel gets a
throwaway uid (:mod:`perflab.grading.kernel_fork`, which is why the server imports the
kernel's modules too), else a fresh ``python -m ipykernel_launcher``. Nothing of one run
is in another:

* the server never runs a notebook, reads a result or holds a secret: it is started
  with the kernel's environment (an allowlist, :func:`perflab.grading.environment.
  kernel_environment`), so its memory and ``/proc/<pid>/environ`` hold nothing the
  kernel could not see anyway, and every fork starts from that same state;
* each worker gets the run's environment, working folder and log, no other open file,
  default signal handlers, a session of its own, and ``PR_SET_PDEATHSIG``;
* the grader talks to the server over a socket pair it created (no path, nothing a
  kernel could connect to), and to each run over a socket pair of the run's own. The
  grader signals no process id at all: closing the run's socket (or asking) makes the
  run's parent, which still holds its child unreaped, SIGKILL process 1 of the run's
  namespace, which ends every process in it.

It is used only where a worker started from scratch would run as root in a PID
namespace (``sandbox.choose()`` gives ``pid-namespace`` with no user namespace); anywhere
else, and with ``PERFLAB_CHECK_FORK_SERVER=0``, :func:`start` starts the worker as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from perflab.grading import mounts
from perflab.grading.slow_imports import SLOW_UNUSED_MODULES, skip_slow_imports

__all__ = [
    "SLOW_UNUSED_MODULES",
    "ForkServer",
    "PoolRun",
    "available",
    "shutdown",
    "skip_slow_imports",
    "start",
    "stop",
]

#: The modules the server imports once, so that no worker imports them again.
WARM_MODULES = (
    "perflab.grading._worker",
    "perflab.grading.sandbox",
    "perflab.grading.checks",
    "papermill",
    "papermill.execute",
    "papermill.engines",
    "papermill.clientwrap",
    "papermill.translators",
    "papermill.parameterize",
    "nbclient",
    "nbclient.client",
    "jupyter_client",
    "jupyter_client.manager",
    "jupyter_client.provisioning",
    "nbformat",
    "nbformat.v4",
    "psutil",
)

_WORKER = "perflab.grading._worker"
_CLONE_NEWNS = 0x00020000
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1


# --------------------------------------------------------------------------- the server


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


def _check(result: int | bool, what: str) -> None:
    """Raise OSError (with errno) unless a libc call returned 0 or a mounts call True."""
    if not (result if isinstance(result, bool) else result == 0):
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _run_worker(request: dict[str, Any], log_fd: int, libc: Any) -> int:
    """In process 1 of the run's new PID namespace: become the worker and run it."""
    _check(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    # as unshare --mount-proc: a /proc of this namespace, private to this mount namespace
    _check(mounts.make_private("/proc"), "mount /proc private")
    _check(mounts.proc("/proc"), "mount proc")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, 65536)  # nothing of the server's or the grader's: log, sockets
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    sys.argv = [str(Path(sys.modules[_WORKER].__file__ or _WORKER)), *argv[3:]]
    from perflab.grading import _worker

    code = 1
    try:
        code = _worker.main(argv[3:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - a worker started from scratch would print it too
        import traceback

        traceback.print_exc()
    finally:
        import atexit

        atexit._run_exitfuncs()  # as a worker started from scratch does at its exit
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    return code


def _parent_of_run(request: dict[str, Any], run_sock: socket.socket, log_fd: int) -> None:
    """The forked child that owns one run: new namespaces, the worker as its child."""
    libc = _libc()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    _check(libc.unshare(_CLONE_NEWPID | _CLONE_NEWNS), "unshare")
    # as unshare(1): no mount made in the run propagates back out of it
    _check(mounts.make_private("/"), "mount / private")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            run_sock.close()
            code = _run_worker(request, log_fd, libc)
        finally:
            os._exit(code)
    os.close(log_fd)
    # ``pid`` is this process's own unreaped child: signalling it can't reach anyone else
    pidfd = os.pidfd_open(pid)
    sock_fd = run_sock.fileno()
    ready, _, _ = select.select([pidfd, sock_fd], [], [])
    if sock_fd in ready and pidfd not in ready:  # asked to stop, or the grader is gone
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    reply = {
        "returncode": os.waitstatus_to_exitcode(status),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
    }
    with contextlib.suppress(OSError):
        run_sock.sendall(json.dumps(reply).encode())


def _serve(control: socket.socket) -> None:
    """The server's loop: one forked run per request, until the grader closes the socket."""
    import gc

    from perflab.grading import kernel_fork

    for name in (*WARM_MODULES, *kernel_fork.WARM_MODULES):  # the kernel's too
        with contextlib.suppress(ImportError):
            __import__(name)
    with contextlib.suppress(Exception):  # the kernel provisioners' entry points, read once
        from jupyter_client.provisioning.factory import KernelProvisionerFactory

        KernelProvisionerFactory.instance()
    gc.collect()
    gc.freeze()  # no collection touches the imported objects: forks share their pages
    children: set[int] = set()

    def reap(block: bool = False) -> None:
        for pid in list(children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
                if done == 0:
                    continue
            children.discard(pid)

    while True:
        readable, _, _ = select.select([control], [], [], 1.0)
        reap()
        if not readable:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 20, 2)
        except OSError:
            break
        if not data:
            for fd in fds:
                os.close(fd)
            break
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        run_sock = socket.socket(fileno=fds[0])
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                _parent_of_run(json.loads(data), run_sock, fds[1])
            except BaseException as exc:  # noqa: BLE001 - say why, the grader falls back
                with contextlib.suppress(OSError):
                    run_sock.sendall(json.dumps({"error": f"{exc}"}).encode())
            finally:
                os._exit(0)
        children.add(pid)
        run_sock.close()
        os.close(fds[1])
    reap(block=True)  # so every run's CPU time is counted against this process


# --------------------------------------------------------------------------- the grader's side


class PoolRun:
    """One run started by the fork server, as the runner sees it (like ``Popen``).

    Attributes:
        returncode: the worker's exit code once it has ended (None before).
        cpu_s: the CPU seconds of the run's worker and everything it started (kernel
            included), once it has ended.
    """

    def __init__(self, run_sock: socket.socket) -> None:
        self._sock = run_sock
        self.returncode: int | None = None
        self.cpu_s: float | None = None
        self.error = ""
        self._buf = b""

    def _read(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        self._sock.settimeout(timeout)
        try:
            while chunk := self._sock.recv(65536):
                self._buf += chunk
        except (TimeoutError, BlockingIOError):
            return False
        except OSError:
            pass
        try:
            reply = json.loads(self._buf or b"{}")
        except ValueError:
            reply = {}
        self.error = str(reply.get("error", ""))
        self.returncode = int(reply.get("returncode", -signal.SIGKILL))
        self.cpu_s = reply.get("cpu_s")
        self._sock.close()
        return True

    def poll(self) -> int | None:
        """The exit code, or None while the run goes on."""
        self._read(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the run's end; ``subprocess.TimeoutExpired`` after ``timeout`` s."""
        if not self._read(timeout):
            raise subprocess.TimeoutExpired(_WORKER, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        """End the run: every process of its namespace is killed. Safe to call twice."""
        if self.returncode is None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)
        self.wait()


class ForkServer:
    """One process that has imported the worker's modules and forks a worker per run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def _start(self) -> None:
        from perflab.grading.environment import kernel_environment

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = kernel_environment(os.environ)
        env["PERFLAB_CHECK_CONTROL_FD"] = str(theirs.fileno())
        self._proc = subprocess.Popen(
            # -c, not -m: runpy would warn that perflab.grading already imported it
            [sys.executable, "-c", "from perflab.grading.kernel_pool import _main; _main()"],
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )
        theirs.close()
        self._control = ours

    def run(self, argv: list[str], cwd: str, env: dict[str, str], log_fd: int) -> PoolRun:
        """Start one worker: ``argv`` must be ``[python, -m, perflab.grading._worker, SPEC]``."""
        ours, theirs = socket.socketpair()
        request = json.dumps({"argv": argv, "cwd": cwd, "env": env}).encode()
        try:
            with self._lock:
                for attempt in range(2):
                    if self._control is None or (self._proc and self._proc.poll() is not None):
                        self._start()
                    assert self._control is not None
                    try:
                        socket.send_fds(self._control, [request], [theirs.fileno(), log_fd])
                        break
                    except OSError:
                        self._control = None
                        if attempt:
                            raise
        finally:
            theirs.close()
        return PoolRun(ours)

    def close(self) -> None:
        """Stop the server (runs under way go on) and reap it."""
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None


_SERVER = ForkServer()


def available(isolation: Any) -> bool:
    """Whether runs with ``isolation`` can come from the fork server here."""
    if os.environ.get("PERFLAB_CHECK_FORK_SERVER", "1") == "0":
        return False
    return (
        getattr(isolation, "mode", "") == "pid-namespace"
        and "--map-root-user" not in getattr(isolation, "prefix", ())
        and sys.platform.startswith("linux")
        and os.geteuid() == 0
        and hasattr(os, "pidfd_open")
        and hasattr(socket, "send_fds")
    )


def start(argv: list[str], isolation: Any, **popen: Any) -> Any:
    """``sandbox.start``, with the worker forked from the warm server when it can be.

    Takes the same arguments (``cwd``, ``env``, ``stdout``: the log file; ``stderr`` and
    ``stdin`` as ``sandbox.start`` is given them) and returns a :class:`PoolRun` or a
    ``Popen``; end it with :func:`stop`.
    """
    from perflab.grading import sandbox

    log: Any = popen.get("stdout")
    worker = len(argv) == 4 and argv[1:3] == ["-m", _WORKER]
    if not (worker and available(isolation) and hasattr(log, "fileno")):
        return sandbox.start(argv, isolation, **popen)
    env = dict(popen.get("env") or os.environ)
    env["PERFLAB_CHECK_ISOLATION"] = isolation.mode
    return _SERVER.run(argv, str(popen.get("cwd") or os.getcwd()), env, log.fileno())


def stop(proc: Any, isolation: Any, grace_s: float = 5.0) -> None:
    """``sandbox.stop`` for either kind of run :func:`start` returns."""
    if isinstance(proc, PoolRun):
        proc.kill()
        return
    from perflab.grading import sandbox

    sandbox.stop(proc, isolation, grace_s)


def shutdown() -> None:
    """Stop the process-wide fork server (it starts again on the next run)."""
    _SERVER.close()


def install(execute_module: Any) -> Any:
    """Make ``perflab.grading.execute`` start its workers through :func:`start`.

    For the benchmark and tests until ``execute.py`` calls :func:`start` and
    :func:`stop` itself; returns what to pass to :func:`uninstall`.
    """
    import types

    from perflab.grading import sandbox

    shim = types.SimpleNamespace(**{n: getattr(sandbox, n) for n in dir(sandbox) if n[:2] != "__"})
    shim.start, shim.stop = start, stop
    before = execute_module.sandbox
    execute_module.sandbox = shim
    return before


def uninstall(execute_module: Any, before: Any) -> None:
    """Undo :func:`install`."""
    execute_module.sandbox = before


def _main() -> int:
    sys.argv[0] = __file__  # the process names itself (ps, and the benchmark's CPU log)
    fd = int(os.environ.pop("PERFLAB_CHECK_CONTROL_FD"))
    skip_slow_imports()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader's Ctrl-C is the grader's
    _serve(socket.socket(fileno=fd))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
