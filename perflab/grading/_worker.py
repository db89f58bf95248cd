"""Executes one notebook with papermill; run as a subprocess by the runner.

``python -m perflab.grading._worker SPEC.json`` reads the run's spec, executes the
notebook and writes ``result.json`` next to the spec. Being a separate process is the
point: the runner can kill it (and the kernel it started) when the whole-run cap is hit,
whatever the learner's code does.

Before anything else the worker confines itself and the kernel it will start
(``perflab.grading.sandbox.confine``: mounts, limits). Then, before the kernel starts,
it puts what it writes out of the kernel's reach (:class:`_Outputs`): it opens its own
folder (``output.ipynb``, ``result.json``) by a descriptor and covers the folder's path
with an empty read-only mount, makes itself non-dumpable (no ``/proc/<pid>/fd`` or
ptrace for a process without ``CAP_SYS_PTRACE``), and starts the kernel either as a
second throwaway uid (the grader runs as root; forked from a warm template when the
worker was forked from the fork server, see ``perflab.grading.kernel_fork``) or with
every capability dropped (a user namespace, where the worker is root of its own). A
kernel can then neither rewrite the saved notebook or the result nor reach the worker's
memory or descriptors.

The engine differs from papermill's stock one in six ways, each for a known trap or cost:
errors don't stop the run (every exercise gets graded); a cell over its timeout is
interrupted (KeyboardInterrupt) so later cells still run, and given up on if the
interrupt is ignored; a dead kernel is recorded in the notebook metadata (papermill
only raises, and its saved notebook shows no error anywhere); output past a byte cap is
dropped (check records have a budget of the same size of their own); the kernel
talks over IPC sockets in the run's folder, not TCP; and the kernel is killed, not asked
to exit, once the last cell is done (it is thrown away: nothing it would do at exit
counts).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from perflab.grading.checks import MIME_TYPE

RUN_KEY = "perflab_run"
_PR_SET_DUMPABLE = 4


class _Outputs:
    """The worker's folder, written through a descriptor the kernel can't reach.

    :meth:`hide` opens the folder and mounts an empty read-only tmpfs over its path (in
    the run's own mount namespace): from then on only this process reaches the folder,
    by the descriptor, and the runner outside the namespace sees the files as written.
    """

    def __init__(self, folder: str, also: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.also = also  # the same folder by other paths (its path outside the jail)
        self.fd: int | None = None
        self.last_notebook = ""  # the last notebook written, as JSON text

    def hide(self) -> bool:
        """Cover the folder's path; True when the kernel can no longer reach it."""
        from perflab.grading import sandbox

        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        if os.path.realpath(os.getcwd()) in (self.folder, *self.also):
            os.chdir(os.path.dirname(self.folder))  # stay somewhere that still resolves
        paths = [self.folder, *(p for p in self.also if p != self.folder and os.path.isdir(p))]
        if not all(sandbox.cover(p) for p in paths):
            os.close(fd)
            return False
        self.fd = fd
        return True

    def write(self, name: str, text: str) -> None:
        """Replace the file ``name`` in the folder with ``text``, atomically."""
        data = text.encode("utf-8")
        if self.fd is None:
            partial = Path(self.folder) / f".{name}.partial"
            partial.write_bytes(data)
            os.replace(partial, Path(self.folder) / name)
            return
        staged = f".{name}.partial"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=self.fd)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(staged, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def write_notebook(self, nb: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        """papermill's ``write_ipynb``, for the output notebook (others go to papermill).

        papermill saves the notebook at every cell's start and end, so the saved state
        is never more than a cell behind when a run is cut short. The runner alone reads
        this file: it is written as compact JSON (the C encoder, no copy, no line
        splitting), as valid an ipynb as ``nbformat.writes`` makes and much cheaper
        (the worker's CPU per run fell from about 0.35 to 0.2 s with it)."""
        if Path(str(path)).name != "output.ipynb" or str(Path(str(path)).parent) != self.folder:
            _ORIGINAL_WRITE[0](nb, path, *args, **kwargs)
            return
        self.last_notebook = json.dumps(nb, ensure_ascii=False)
        self.write("output.ipynb", self.last_notebook)


_ORIGINAL_WRITE: list[Any] = []


def _not_dumpable() -> bool:
    """PR_SET_DUMPABLE 0: a process without CAP_SYS_PTRACE can't trace this one or open
    its ``/proc/<pid>/fd`` or ``mem``, even with the same uid (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _make_engine() -> Any:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbclient.util import ensure_async
    from nbformat import NotebookNode
    from nbformat.v4 import new_output
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class Client(PapermillNotebookClient):  # type: ignore[misc]
        def __init__(
            self,
            nb_man: Any,
            output_cap: int,
            interrupt_grace: float,
            guard: Any = None,
            **kw: Any,
        ) -> None:
            super().__init__(nb_man, **kw)
            self.guard = guard  # _Guard: how the kernel is kept from the worker
            self.output_cap = output_cap
            self.interrupt_grace = interrupt_grace
            self.output_bytes = 0
            self.record_bytes = 0
            self.interrupted_at: dict[int, float] = {}
            self.current = -1

        def create_kernel_manager(self) -> Any:
            # IPC sockets in the run's folder, not TCP ports: no "running over TCP
            # without encryption" warning, and parallel runs can't collide on a port.
            km = super().create_kernel_manager()
            km.transport = "ipc"
            guard = self.guard
            folder = guard.ipc_dir if guard is not None and guard.ipc_dir else None
            km.ip = str(Path(folder or Path(self.nb_man.output_path).parent) / "k")
            if guard is not None:
                guard.prepare(km)
            return km

        def _run_info(self) -> dict[str, Any]:
            info: dict[str, Any] = self.nb.metadata.setdefault(RUN_KEY, {})
            return info

        def execute(self, **kwargs: Any) -> Any:
            self.reset_execution_trackers()
            if self.guard is not None:
                self.guard.before_kernel()
                kwargs.update(self.guard.launch_kwargs())
            with self.setup_kernel(**kwargs):
                self.papermill_execute_cells()
            return self.nb

        def papermill_execute_cells(self) -> None:
            self._run_info()["started"] = True
            for index, cell in enumerate(self.nb.cells):
                self.current = index
                marks = cell.metadata.setdefault(RUN_KEY, {})
                marks["started"] = True
                try:
                    self.nb_man.cell_start(cell, index)
                    self.execute_cell(cell, index)
                    marks["done"] = True
                except CellExecutionError as exc:
                    marks["done"] = True
                    self.nb_man.cell_exception(cell, cell_index=index, exception=exc)
                except CellTimeoutError:
                    self._run_info()["stuck_at"] = index
                    break
                except DeadKernelError:
                    self._run_info()["died_at"] = index
                    break
                finally:
                    self.nb_man.cell_complete(self.nb.cells[index], cell_index=index)
            self._run_info()["finished"] = True
            self.nb_man.save()

        async def _async_handle_timeout(
            self, timeout: int, cell: NotebookNode | None = None
        ) -> None:
            now = time.monotonic()
            first = self.interrupted_at.setdefault(self.current, now)
            if first == now and cell is not None:
                cell.metadata.setdefault(RUN_KEY, {})["timed_out"] = timeout
                assert self.km is not None
                await ensure_async(self.km.interrupt_kernel())
                return
            if now - first > self.interrupt_grace:
                raise CellTimeoutError.error_from_timeout_and_cell(
                    "Cell execution timed out",
                    timeout,
                    cell,  # type: ignore[arg-type]
                )
            await asyncio.sleep(0.05)
            return

        def output(
            self,
            outs: list[NotebookNode],
            msg: dict[str, Any],
            display_id: str | None,
            cell_index: int,
        ) -> NotebookNode | None:
            content = msg.get("content", {})
            data = content.get("data") or {}
            size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in data.values())
            size += len(str(content.get("traceback", "")))
            if MIME_TYPE in data:
                # check records have a budget of their own, as large as the output cap,
                # so a flood of prints can't crowd out the checks (nor records the cap)
                self.record_bytes += size
                if self.record_bytes <= self.output_cap:
                    return super().output(outs, msg, display_id, cell_index)  # type: ignore[no-any-return]
                self.nb.cells[cell_index].metadata.setdefault(RUN_KEY, {})["records_capped"] = True
                return None
            self.output_bytes += size
            if self.output_bytes <= self.output_cap:
                return super().output(outs, msg, display_id, cell_index)  # type: ignore[no-any-return]
            cell = self.nb.cells[cell_index]
            marks = cell.metadata.setdefault(RUN_KEY, {})
            if not marks.get("output_capped"):
                marks["output_capped"] = True
                outs.append(
                    new_output(
                        "stream",
                        name="stderr",
                        text=(  # type: ignore[no-untyped-call]
                            f"[perflab check: output passed the {self.output_cap // 1_000_000} MB cap; "
                            "the rest was dropped]\n"
                        ),
                    )
                )
            return None

    class Engine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: Any = None,
            **kwargs: Any,
        ) -> Any:
            kwargs = remove_args(["input_path"], **kwargs)
            kwargs["guard"] = _GUARD[0] if _GUARD else None
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=False,
                stdout_file=None,
                stderr_file=None,
                # Every output is in once the last cell is done; the kernel is thrown
                # away, so it is killed rather than asked to exit (saves its atexit hooks
                # and interpreter teardown, about 0.2 CPU-s a run).
                shutdown_kernel="immediate",
            )
            return Client(nb_man, **final_kwargs).execute()

    return Engine


class _Guard:
    """Keeps the kernel away from the worker: the folder, the uid or the capabilities.

    Attributes:
        outputs: where the worker writes.
        kernel_uid: the kernel's own uid (the grader runs as root), or None.
        ipc_dir: the kernel's folder for its sockets and connection file.
        hide: whether to cover the worker's folder (in the run's mount namespace).
        not_enforced: what could not be put in place.
    """

    def __init__(self, outputs: _Outputs, spec: dict[str, Any]) -> None:
        self.outputs = outputs
        uid = spec.get("kernel_uid")
        self.kernel_uid = int(uid) if uid is not None and os.geteuid() == 0 else None
        self.ipc_dir = str(spec.get("ipc_dir") or "")
        self.hide = bool(spec.get("hide_outputs"))
        self.not_enforced: list[str] = []

    def before_kernel(self) -> None:
        if self.hide and not self.outputs.hide():
            self.not_enforced.append(
                "the run's folder could not be hidden from the kernel: it could rewrite "
                "the saved notebook"
            )
        elif not self.hide:
            self.not_enforced.append(
                "no mount namespace: the kernel can reach the worker's folder and could "
                "rewrite the saved notebook"
            )
        if not _not_dumpable() and sys.platform.startswith("linux"):
            self.not_enforced.append("the worker could not make itself non-dumpable")

    def drop_prefix(self) -> list[str]:
        """``setpriv`` dropping every capability, for a kernel that would be root (of a
        user namespace, or root with no throwaway uid); [] when not needed or missing."""
        import shutil

        if self.kernel_uid is not None or not hasattr(os, "geteuid") or os.geteuid() != 0:
            return []
        exe = shutil.which("setpriv")
        if exe is None:
            self.not_enforced.append(
                "the kernel keeps root's capabilities (util-linux setpriv missing)"
            )
            return []
        return [exe, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]

    def prepare(self, km: Any) -> None:
        """Give the kernel its own uid's connection file, or a capability-less command."""
        prefix = self.drop_prefix()
        if prefix:
            format_cmd = km.format_kernel_cmd

            def dropped(extra_arguments: list[str] | None = None) -> list[str]:
                return [*prefix, *format_cmd(extra_arguments=extra_arguments)]

            km.format_kernel_cmd = dropped
        uid = self.kernel_uid
        if uid is not None:
            write = km.write_connection_file

            def readable_by_kernel(**kw: Any) -> Any:
                done = write(**kw)
                os.chown(km.connection_file, uid, uid)
                return done

            km.write_connection_file = readable_by_kernel

    def launch_kwargs(self) -> dict[str, Any]:
        """Popen arguments that start the kernel as its own uid (empty when it has none)."""
        if self.kernel_uid is None:
            return {}
        return {"user": self.kernel_uid, "group": self.kernel_uid, "extra_groups": []}


_GUARD: list[_Guard] = []


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute the notebook the spec names; return what happened (never raises)."""
    from perflab.grading.slow_imports import skip_slow_imports

    skip_slow_imports()  # about 1 s of CPU per run that grading never needs
    try:
        import papermill
        import papermill.execute
        from papermill.engines import papermill_engines
    except ImportError as exc:
        return {"outcome": "no-papermill", "message": str(exc)}
    # papermill would add an error banner cell and raise when a cell failed: the grader
    # reads errors from the cells itself, and cell numbers must stay the learner's.
    papermill.execute.raise_for_execution_errors = lambda nb, output_path: None
    import papermill.engines

    outputs = _GUARD[0].outputs if _GUARD else _Outputs(str(Path(spec["output"]).parent))
    if not _ORIGINAL_WRITE:
        _ORIGINAL_WRITE.append(papermill.execute.write_ipynb)
    papermill.execute.write_ipynb = outputs.write_notebook
    papermill.engines.write_ipynb = outputs.write_notebook
    papermill_engines.register("perflab", _make_engine())
    try:
        papermill.execute_notebook(
            spec["input"],
            spec["output"],
            parameters=spec["parameters"],
            engine_name="perflab",
            kernel_name=spec["kernel_name"],
            language="python",
            cwd=spec["cwd"],
            progress_bar=False,
            log_output=False,
            start_timeout=spec.get("start_timeout", 60),
            execution_timeout=spec["timeout"],
            allow_errors=True,
            output_cap=spec["output_cap"],
            interrupt_grace=spec.get("interrupt_grace", 5.0),
            autosave_cell_every=2,
        )
    except Exception as exc:  # noqa: BLE001 - kernel could not start, or something we did not foresee
        name = type(exc).__name__
        started = _started(outputs.last_notebook)
        return {
            "outcome": "ran" if started else "no-kernel",
            "error": name,
            "message": f"{name}: {exc}"[:2000],
            "traceback": traceback.format_exc()[-4000:],
        }
    return {"outcome": "ran"}


def _started(text: str) -> bool:
    """Whether the notebook last written (JSON text) had started running."""
    try:
        nb = json.loads(text)
    except ValueError:
        return False
    return bool(nb.get("metadata", {}).get(RUN_KEY, {}).get("started"))


def _end_descendants_on_exit() -> str:
    """Outside a PID namespace, make sure the kernel's processes die with this one.

    In a namespace (the usual case on Linux) there is nothing to do: this process is
    its process 1, and the kernel ends everything in it when this process exits.
    """
    from perflab.grading import sandbox

    mode = os.environ.get("PERFLAB_CHECK_ISOLATION", "process-tree")
    if mode == "pid-namespace":
        return mode
    if mode == "subreaper" and not sandbox.become_subreaper():
        mode = "process-tree"

    def on_term(signum: int, frame: Any) -> None:
        sandbox.kill_descendants()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    return mode


def main(argv: list[str]) -> int:
    """Entry point: ``python -m perflab.grading._worker SPEC.json``."""
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    mode = _end_descendants_on_exit()
    from perflab.grading import sandbox

    confined = sandbox.confine(spec.get("jail") or {})
    outside = str(spec_path.parent)
    spec_path = Path(confined.inside(str(spec_path)))
    spec = {k: confined.inside(v) if isinstance(v, str) else v for k, v in spec.items()}
    # The worker was started in its folder by the outside path, which no longer resolves
    # once the run's folder covers /tmp (a grader that is not root keeps runs in /tmp):
    # papermill changes back to the path of the working folder, so name it from inside.
    os.chdir(confined.inside(os.path.realpath(os.getcwd())))
    spec["hide_outputs"] = bool(confined.root)  # a mount namespace of the run's own
    guard = _Guard(_Outputs(str(spec_path.parent), (outside,)), spec)
    _GUARD[:] = [guard]
    if (
        spec.get("fork_kernel")
        and mode == "pid-namespace"
        and guard.kernel_uid is not None
        and "ipykernel.kernelapp" in sys.modules  # forked from the warm fork server
    ):
        from perflab.grading import kernel_fork

        # now: confined, still one thread, nothing of the run opened yet
        kernel_fork.install(kernel_fork.Template())
    try:
        result = run(spec)
        result["not_enforced"] = [*confined.not_enforced, *guard.not_enforced]
    finally:
        if mode != "pid-namespace":
            from perflab.grading.sandbox import kill_descendants

            kill_descendants()
    guard.outputs.write("result.json", json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
