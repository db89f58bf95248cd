"""Executes one notebook with papermill; run as a subprocess by the runner.

``python -m perflab.grading._worker SPEC.json`` reads the run's spec, executes the
notebook and writes ``result.json`` next to the spec. Being a separate process is the
point: the runner can kill it (and the kernel it started) when the whole-run cap is hit,
whatever the learner's code does.

Before anything else the worker confines itself and the kernel it will start
(``perflab.grading.sandbox.confine``: mounts, limits, a throwaway uid).

The engine differs from papermill's stock one in five ways, each for a known trap:
errors don't stop the run (every exercise gets graded); a cell over its timeout is
interrupted (KeyboardInterrupt) so later cells still run, and given up on if the
interrupt is ignored; a dead kernel is recorded in the notebook metadata (papermill
only raises, and its saved notebook shows no error anywhere); output past a byte cap is
dropped (check records have a budget of the same size of their own); and the kernel
talks over IPC sockets in the run's folder, not TCP.
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


def _make_engine() -> Any:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbclient.util import ensure_async
    from nbformat import NotebookNode
    from nbformat.v4 import new_output
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class Client(PapermillNotebookClient):  # type: ignore[misc]
        def __init__(self, nb_man: Any, output_cap: int, interrupt_grace: float, **kw: Any) -> None:
            super().__init__(nb_man, **kw)
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
            km.ip = str(Path(self.nb_man.output_path).parent / "k")
            return km

        def _run_info(self) -> dict[str, Any]:
            info: dict[str, Any] = self.nb.metadata.setdefault(RUN_KEY, {})
            return info

        def execute(self, **kwargs: Any) -> Any:
            self.reset_execution_trackers()
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
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=False,
                stdout_file=None,
                stderr_file=None,
            )
            return Client(nb_man, **final_kwargs).execute()

    return Engine


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute the notebook the spec names; return what happened (never raises)."""
    from perflab.grading.kernel_pool import skip_slow_imports

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
        started = Path(spec["output"]).exists() and _started(spec["output"])
        return {
            "outcome": "ran" if started else "no-kernel",
            "error": name,
            "message": f"{name}: {exc}"[:2000],
            "traceback": traceback.format_exc()[-4000:],
        }
    return {"outcome": "ran"}


def _started(path: str) -> bool:
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
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
    spec_path = Path(confined.inside(str(spec_path)))
    spec = {k: confined.inside(v) if isinstance(v, str) else v for k, v in spec.items()}
    try:
        result = run(spec)
        result["not_enforced"] = confined.not_enforced
    finally:
        if mode != "pid-namespace":
            from perflab.grading.sandbox import kill_descendants

            kill_descendants()
    (spec_path.parent / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
