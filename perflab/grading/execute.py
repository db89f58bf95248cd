"""One sandboxed execution of a notebook: the scratch folder, the worker, what it left.

The runner (``perflab.grading.runner``) calls :func:`execute` for the reference
solution's run and for the learner's. Each gets a scratch folder of its own (HOME, the
temporary folders, the kernel's working directory), a worker started by
``perflab.grading.sandbox`` as process 1 of a PID namespace, the jail the worker puts
itself in before the kernel starts (:func:`perflab.grading.sandbox.confine`), and a
throwaway uid for the kernel when the grader runs as root. The worker writes the
executed notebook and ``result.json`` into ``run/``, which the kernel can't reach (see
``perflab.grading._worker``); the runner reads them from there. The scratch folder is
deleted afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perflab.grading import kernel_pool, sandbox
from perflab.grading._worker import RUN_KEY
from perflab.grading.checks import source_digest
from perflab.grading.environment import kernel_environment
from perflab.grading.grade import RunInfo
from perflab.grading.notebook import cell_tag, read_notebook, write_notebook
from perflab.grading.reference import graded_source
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, Status

if TYPE_CHECKING:
    from perflab.grading.runner import CheckOptions

__all__ = ["Execution", "execute", "prepare"]


def prepare(nb: Any, graded: bool) -> Any:
    """A copy to run: run marks cleared, ``parameters`` tag on the role cell, and (for a
    learner's run) every check cell in its graded form."""
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop(RUN_KEY, None)
    has_role = any((t := cell_tag(c)) is not None and t.role == "parameters" for c in nb.cells)
    for cell in nb.cells:
        cell.metadata.pop(RUN_KEY, None)
        tag = cell_tag(cell)
        if graded and tag is not None and tag.role == "check" and cell.cell_type == "code":
            cell.metadata[RUN_KEY] = {"original_digest": source_digest(cell.source)}
            cell.source = graded_source(cell.source)
        if not has_role:
            continue
        tags = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
        if tag is not None and tag.role == "parameters" and cell.cell_type == "code":
            tags.append("parameters")
        cell.metadata["tags"] = tags
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _scratch_base() -> str | None:
    """Where run folders go: a folder of the grader's (root: under /run), else /tmp."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and os.path.isdir("/run"):
        base = Path("/run/perflab-check")
        base.mkdir(mode=0o711, exist_ok=True)
        return str(base)
    return None


def _others_can_read(path: str, home: str) -> bool:
    """Whether a user with no rights of its own can reach and list ``path``.

    Folders inside the grader's home are exempt up to the bind-mount point (the jail
    mounts them back, readable, over an open tmpfs); everything else is checked.
    """
    current = Path(path).resolve()
    for folder in [current, *current.parents]:
        text = str(folder)
        inside_home = home and (text == home or text.startswith(home.rstrip("/") + "/"))
        kept = any(text == k or text.startswith(k.rstrip("/") + "/") for k in _readonly_dirs())
        if inside_home and not kept:
            continue
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if mode & 0o005 != 0o005 and text != current.anchor:
            return False
    return True


@cache
def _python_readable_by_others() -> bool:
    """Whether a throwaway uid could run this Python and import perflab and its libraries."""
    import sysconfig

    home = _grader_home()
    needed = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]}
    needed.add(str(Path(__file__).resolve().parents[1]))
    return all(_others_can_read(p, home) for p in needed)


def _throwaway_uid() -> int | None:
    """A uid no account has, for one run, when the grader is root (else None).

    None too when that uid could not read the grader's Python (installed under a folder
    only root may enter): the run then keeps root's uid, and the report says so.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not _python_readable_by_others():
        return None
    import pwd

    while True:
        uid = 200_000 + secrets.randbelow(1_000_000_000)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def _chown_tree(root: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(root):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, uid)


@dataclass
class Execution:
    """One execution: the executed notebook and what the runner saw.

    Attributes:
        executed: the executed notebook (None when the run failed to start).
        info: what the runner saw from outside.
        problem: an ``ungraded`` row when the notebook could not be run.
    """

    executed: Any
    info: RunInfo
    problem: list[ExerciseResult] = field(default_factory=list)


def _hidden_dirs(options: CheckOptions) -> list[str]:
    from perflab.grading.notebook import reference_dirs

    dirs = options.reference_dirs if options.reference_dirs is not None else reference_dirs()
    return [str(Path(d).resolve()) for d in dirs]


def _readonly_dirs() -> list[str]:
    """The checkout (or installed package) and the Python environments: never writable."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent
    found = {str(checkout if (checkout / "pyproject.toml").exists() else package)}
    found |= {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
    return sorted(found)


def _grader_home() -> str:
    """The grader's home folder, hidden from runs ('' when there is none to hide)."""
    home = os.path.realpath(os.path.expanduser("~"))
    return home if os.path.isdir(home) and home != "/" else ""


def execute(
    nb: Any,
    parameters: dict[str, Any],
    seed: int | None,
    options: CheckOptions,
    role: str,
    graded: bool = True,
) -> Execution:
    """Run ``nb`` once in a sandbox of its own; ``role`` is "learner" or "reference".

    A learner's notebook runs with its check cells in their graded form (no expected
    values), unless ``graded`` is False (no reference: its own checks decide)."""
    isolation = sandbox.choose(options.isolation)
    scratch = Path(tempfile.mkdtemp(prefix="perflab-check-", dir=_scratch_base()))
    names = ("run", "cwd", "data", "home", "tmp", "ipc")
    run_dir, cwd, data, home, tmp, ipc = (scratch / n for n in names)
    kernels = scratch / "jupyter" / "kernels" / options.kernel_name
    # home/.ipython too: the worker (root, when the kernel has a uid of its own) would
    # otherwise make it on import, and the kernel fall back to a temporary IPython folder
    for folder in (run_dir, cwd, data, home, tmp, ipc, kernels, home / ".ipython"):
        folder.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (perflab check)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    write_notebook(prepare(nb, graded=graded and role == "learner"), run_dir / "input.ipynb")
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    cap = options.run_cap_s or min(
        options.start_timeout_s + 30 + options.timeout_s * (code_cells + 1), 3600.0
    )
    uid = _throwaway_uid() if isolation.mode == "pid-namespace" else None
    spec = {
        "input": str(run_dir / "input.ipynb"),
        "output": str(run_dir / "output.ipynb"),
        "ipc_dir": str(ipc),  # the kernel's sockets and connection file, not in run_dir
        "kernel_uid": uid,  # the kernel's own uid (the worker stays root)
        "parameters": parameters,
        "kernel_name": options.kernel_name,
        "cwd": str(cwd),
        "timeout": max(1, round(options.timeout_s)),
        "output_cap": options.output_cap_bytes,
        "start_timeout": round(options.start_timeout_s),
        "interrupt_grace": options.interrupt_grace_s,
        # the kernel forked from the fork server's warm template (perflab.grading.kernel_fork)
        "fork_kernel": os.environ.get("PERFLAB_CHECK_FORK_KERNEL", "1") != "0",
        "jail": {
            "scratch": str(scratch),
            "mount": isolation.mode == "pid-namespace",
            "hide": _hidden_dirs(options),
            "readonly": _readonly_dirs(),
            "home_hide": _grader_home(),
            "keep": _readonly_dirs(),
            "uid": uid,
            "memory_mb": options.memory_mb,
            "cpu_s": round(cap) + 30,
            "fsize_mb": 1024,
            "nproc": options.max_processes,
        },
    }
    (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = dict(
        kernel_environment(os.environ),
        HOME=str(home),
        TMPDIR=str(tmp),
        PERFLAB_CHECK_ROLE=role,
        PERFLAB_DATA_DIR=str(data),
        MPLBACKEND="Agg",
        JUPYTER_PATH=str(scratch / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(ipc),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        IPYTHONDIR=str(home / ".ipython"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    if uid is not None:
        # The kernel's uid owns its folders; the run's folder (spec, notebooks, result)
        # stays root's and closed, and the scratch folder (the run's /tmp) is root's
        # with the sticky bit, so the kernel can add files there but can't move "run".
        for folder in (cwd, data, home, tmp, ipc, scratch / "jupyter"):
            _chown_tree(folder, uid)
        run_dir.chmod(0o700)
        scratch.chmod(0o1777)
    info = RunInfo(seed=seed, parameters=parameters, timeout_s=options.timeout_s)
    try:
        with open(run_dir / "worker.log", "wb") as log:
            # The only process id the runner ever signals is this child's own: never one
            # read from a file the kernel could write (see perflab.grading.sandbox). As
            # root in a PID namespace the worker is forked from the warm fork server
            # (perflab.grading.kernel_pool), into a new PID namespace of its own all the same.
            proc = kernel_pool.start(
                [sys.executable, "-m", "perflab.grading._worker", str(run_dir / "spec.json")],
                isolation,
                cwd=run_dir,
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
            try:
                proc.wait(timeout=cap)
            except subprocess.TimeoutExpired:
                info.capped_after_s = round(cap, 1)
            finally:
                kernel_pool.stop(proc, isolation)
        try:
            outcome = json.loads((run_dir / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = None
        if not isinstance(outcome, dict):  # missing, or written over by the kernel
            outcome = {"outcome": "ran" if info.capped_after_s else "crashed"}
        info.outcome = outcome
        if info.outcome.get("outcome") in ("no-kernel", "no-papermill", "crashed"):
            tail = (run_dir / "worker.log").read_bytes()[-1500:].decode(errors="replace")
            message = info.outcome.get("message") or tail.strip() or "the worker process failed"
            problem = ExerciseResult(
                NOTEBOOK_ROW,
                Status.UNGRADED,
                f"could not run the notebook in a {options.kernel_name} kernel: {message}",
                None,
                seed,
            )
            return Execution(None, info, [problem])
        info.files_written = sorted(
            str(p.relative_to(scratch))
            for p in scratch.rglob("*")
            if p.is_file() and not _is_kernel_housekeeping(p.relative_to(scratch))
        )
        try:
            executed = read_notebook(run_dir / "output.ipynb")
        except Exception:  # noqa: BLE001 - killed mid-write, or never written: grade what we sent
            executed = prepare(nb, graded=graded and role == "learner")
        missing = [str(n) for n in info.outcome.get("not_enforced") or [] if isinstance(n, str)]
        notes = [isolation.not_enforced] if isolation.not_enforced else []
        info.not_enforced = [f"not enforced ({isolation.mode}): {n}" for n in notes + missing]
        return Execution(executed, info)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _is_kernel_housekeeping(relative: Path) -> bool:
    """Files IPython, Jupyter and matplotlib keep in a scratch HOME on their own."""
    text = relative.as_posix()
    return text.startswith(
        (
            "run/",
            "jupyter/",
            "data/",
            "home/.ipython/",
            "home/.local/share/jupyter/",
            "home/.cache/",
            "home/.config/matplotlib/",
            "home/.jupyter/",
            "ipc/",
        )
    )
