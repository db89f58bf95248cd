"""Check the exercise you are in from one of its own cells: :func:`check_my_work`.

Every exercise notebook ends with a cell::

    from perflab.grading import check_my_work
    check_my_work("03_cache_economics.ipynb")

It runs ``perflab check`` on the notebook's **saved** file in a new process
(``python -m perflab check``, with this kernel's Python), so ``perflab`` need not be on
the PATH, and the grade is decided by the sandboxed grader, never by this kernel. Around
the grader's report it says what only the kernel can know:

* the notebook is being graded right now (the grader runs every cell, this one too):
  then it does nothing, or each check would start another, without end;
* code was run here that is not in the saved file: save (Ctrl-S) and check again.

The same module words ``perflab check``'s "saved at" line and its message for a path
that does not exist.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

__all__ = [
    "GRADER_VARIABLES",
    "check_my_work",
    "course_root",
    "find_notebook",
    "grading_run",
    "not_found_message",
    "saved_line",
    "suggestions",
    "unsaved_runs",
]

#: Variables the grader sets in the environment of every run's kernel
#: (``perflab.grading.execute`` and ``perflab.grading.sandbox``).
GRADER_VARIABLES = ("PERFLAB_CHECK_ROLE", "PERFLAB_CHECK_ISOLATION")
#: The grader's worker process, the parent of every graded kernel: started as
#: ``-m perflab.grading._worker``, or forked from the fork server, whose command line
#: names ``perflab.grading.kernel_pool``.
_WORKER = "perflab.grading._worker"
_WORKER_MARKS = (_WORKER, "perflab.grading.kernel_pool")


def _ancestor_commands() -> list[list[str]]:
    """The command lines of this process's parents, nearest first."""
    import psutil

    commands = []
    try:
        parents = psutil.Process().parents()
    except psutil.Error:
        return []
    for proc in parents:
        try:
            commands.append(proc.cmdline())
        except psutil.Error:
            continue
    return commands


def grading_run(
    environ: Mapping[str, str] | None = None, commands: Iterable[Sequence[str]] | None = None
) -> str:
    """Why this process is part of a ``perflab check`` run, or "" when it is not.

    Two marks, so that a notebook cannot shed both: the grader's variables in the
    environment, and the grader's worker among the parent processes (code in the
    notebook can delete a variable, not change which process started its kernel).

    Args:
        environ: the environment to look at (default: this process's).
        commands: the parents' command lines (default: read from the system).
    """
    env = os.environ if environ is None else environ
    for name in GRADER_VARIABLES:
        if name in env:
            return f"{name} is set"
    for argv in _ancestor_commands() if commands is None else commands:
        if any(mark in arg for arg in argv for mark in _WORKER_MARKS):
            return "a parent process is the grader's worker"
    return ""


def course_root(start: Path) -> Path | None:
    """The course folder ``start`` is in: a copy ``perflab lab`` made, or a checkout."""
    from perflab.curriculum import find_copy

    copy = find_copy(start)
    if copy is not None:
        return copy
    for folder in (start, *start.parents):
        if (folder / "notebooks").is_dir() and (folder / "exercises").is_dir():
            return folder
    return None


def find_notebook(name: str | Path, cwd: Path | None = None) -> Path | None:
    """The file ``name`` names: from ``cwd`` (default: the current folder), else from the
    course root; None when neither holds it."""
    here = (Path.cwd() if cwd is None else cwd).resolve()
    given = Path(name).expanduser()
    candidates = [given if given.is_absolute() else here / given]
    root = course_root(here)
    if root is not None and not given.is_absolute():
        candidates.append(root / given)
    return next((c for c in candidates if c.is_file()), None)


def _relative(path: Path, here: Path) -> str:
    try:
        return os.path.relpath(path, here)
    except ValueError:  # another drive (Windows)
        return str(path)


def suggestions(name: str | Path, cwd: Path | None = None) -> list[str]:
    """Notebooks ``name`` probably meant, relative to ``cwd``, the likeliest first.

    In order, the first kind that finds any: the path typed from the course folder while
    in one of its folders (or the other way round); the same file name elsewhere in the
    course; a name that starts the same; a near name (a typo). Solutions come last.
    """
    here = (Path.cwd() if cwd is None else cwd).resolve()
    given = Path(name)
    root = course_root(here)
    tiers: list[list[Path]] = [[here / Path(*given.parts[i:]) for i in range(1, len(given.parts))]]
    if root is not None:
        tiers[0].append(root / given)
        folders = [root / f for f in ("exercises", "notebooks", "solutions") if (root / f).is_dir()]
        everything = [p for f in folders for p in sorted(f.rglob("*.ipynb"))]
        stem = given.name.removesuffix(".ipynb")
        near = set(difflib.get_close_matches(given.name, [p.name for p in everything], 3, 0.6))
        tiers += [
            [p for p in everything if p.name == given.name],
            [p for p in everything if stem and p.name.startswith(stem)],
            [p for p in everything if p.name in near],
        ]
    for tier in tiers:
        kept = [p for p in tier if p.is_file() and ".ipynb_checkpoints" not in p.parts]
        if kept:
            kept.sort(key=lambda p: "solutions" in p.parts)  # stable: the rest keep their order
            return list(dict.fromkeys(_relative(p, here) for p in kept))
    return []


def not_found_message(name: str | Path, cwd: Path | None = None) -> str:
    """What was looked for when ``name`` is no file, and the notebook it probably meant.

    For example ``no exercises/exercises/03_cache_economics.ipynb in the course folder;
    did you mean 03_cache_economics.ipynb (you are in exercises/)?``
    """
    here = (Path.cwd() if cwd is None else cwd).resolve()
    root = course_root(here)
    looked = Path(os.path.normpath(here / Path(name).expanduser()))
    if root is not None and root in (looked, *looked.parents):
        text = f"no {looked.relative_to(root).as_posix()} in the course folder {root}"
    else:
        text = f"no file {looked}"
    where = f"you are in {here}"
    if root == here:
        where = "you are in the course folder"
    elif root is not None and root in here.parents:
        where = f"you are in {here.relative_to(root).as_posix()}/"
    found = suggestions(name, here)
    if found:
        text += f"; did you mean {found[0]} ({where})?"
        if len(found) > 1:
            text += " Also found: " + ", ".join(found[1:4]) + "."
    elif root is not None:
        text += f" ({where}); the exercises are in {root / 'exercises'}"
    return text


def _ago(seconds: float) -> str:
    if seconds < 10:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return f"{int(seconds)} seconds ago"


def saved_line(path: Path, now: float | None = None) -> str:
    """``graded exercises/03.ipynb as saved at 14:03, 2 minutes ago (...)``: which version.

    The time is the file's modification time, in local time (with the date when it is
    not today).
    """
    mtime = path.stat().st_mtime
    now = time.time() if now is None else now
    saved, today = datetime.fromtimestamp(mtime), datetime.fromtimestamp(now)
    stamp = saved.strftime("%H:%M" if saved.date() == today.date() else "%Y-%m-%d %H:%M")
    return (
        f"graded {path} as saved at {stamp}, {_ago(now - mtime)} "
        "(changes not saved yet are not graded: save with Ctrl-S first)"
    )


def _normal(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")).strip()


def _closest(text: str, cells: Sequence[str]) -> tuple[int, float]:
    """The index of the cell most like ``text`` and how alike (0 to 1); (-1, 0) for none.

    Code of a few lines is compared character by character, longer code line by line
    (fast, and one edited line of ten still reads as 90% alike). ``quick_ratio`` bounds
    ``ratio`` from above, so most cells are ruled out cheaply.
    """
    by_line = text.count("\n") >= 2
    split = (lambda t: t.split("\n")) if by_line else list
    mine = split(text)
    matchers = [difflib.SequenceMatcher(None, mine, split(c)) for c in cells]
    order = sorted(range(len(cells)), key=lambda i: -matchers[i].quick_ratio())
    best, alike = -1, 0.0
    for i in order:
        if matchers[i].quick_ratio() <= alike:
            break
        ratio = matchers[i].ratio()
        if ratio > alike:
            best, alike = i, ratio
    return best, alike


def unsaved_runs(executed: Sequence[str], saved: Sequence[str]) -> list[str]:
    """The code run in a kernel whose latest version is not in the saved notebook.

    A kernel knows the code it ran, not which cell it came from, so each run that is not
    a saved cell is taken for a version of the saved cell it most resembles (or of a new
    cell, when none is alike). A version that was followed by a run of that saved cell,
    or by a later version of it, was superseded: only the latest unsaved run of each
    cell is returned, in the order they ran.

    Args:
        executed: the sources the kernel ran, oldest first.
        saved: the sources of the saved notebook's code cells.
    """
    cells = [_normal(s) for s in saved]
    known = set(cells)
    latest: dict[object, tuple[int, str]] = {}
    saved_run_at: dict[str, int] = {}
    closest: dict[str, tuple[int, float]] = {}
    for at, code in enumerate(executed):
        text = _normal(code)
        if not text:
            continue
        if text in known:
            saved_run_at[text] = at
            continue
        if text not in closest:
            closest[text] = _closest(text, cells)
        best, alike = closest[text]
        key: object = cells[best] if alike >= 0.5 else ("new", at)
        latest[key] = (at, code)
    unsaved = [
        (at, code)
        for key, (at, code) in latest.items()
        if not (isinstance(key, str) and saved_run_at.get(key, -1) > at)
    ]
    return [code for _, code in sorted(unsaved)]


def _kernel_history() -> list[str] | None:
    """The code this IPython kernel ran, oldest first, without the running cell (None
    outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    raw = list(shell.history_manager.input_hist_raw)
    return [str(code) for code in raw[1:-1]]  # [0] is a blank; [-1] is this cell


def _saved_code(path: Path) -> list[str]:
    from perflab.grading.notebook import read_notebook

    return [c.source for c in read_notebook(path).cells if c.cell_type == "code"]


def _open_here() -> Path | None:
    """The notebook JupyterLab started this kernel for (its JPY_SESSION_NAME), if known."""
    name = os.environ.get("JPY_SESSION_NAME", "")
    return Path(name).resolve() if name.endswith(".ipynb") else None


def _unsaved_warning(path: Path) -> str:
    history = _kernel_history()
    open_here = _open_here()
    if history is None or (open_here is not None and open_here != path.resolve()):
        return ""  # not a kernel, or the kernel of another notebook: nothing to compare
    try:
        runs = unsaved_runs(history, _saved_code(path))
    except Exception:  # noqa: BLE001 - an unreadable file: the check itself will say so
        return ""
    if not runs:
        return ""
    first = _normal(runs[0]).split("\n")[0][:60]
    cells = f"{len(runs)} cell{'s' if len(runs) != 1 else ''}"
    return (
        f"you ran code that is not saved yet ({cells}, e.g. `{first}`); save (Ctrl-S) and "
        "check again. This check grades the saved file."
    )


def _stream(command: list[str], cwd: Path) -> int:
    """Run ``command``, printing its output as it comes; return its exit code."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                print(line, end="", flush=True)
        except KeyboardInterrupt:  # the learner interrupted the kernel: end the check too
            proc.terminate()
            print("check_my_work: stopped.")
        return proc.wait()


def check_my_work(notebook: str | Path, *args: str) -> None:
    """Check an exercise notebook with ``perflab check``, from a cell of it.

    ``notebook`` is found from the kernel's folder (a notebook's own folder in
    JupyterLab), else from the course folder. The grader runs in a new process on the
    saved file; its report is printed here as it comes. Under ``perflab check`` itself
    this does nothing but say so.

    Args:
        notebook: the notebook to check, e.g. ``"03_cache_economics.ipynb"``.
        *args: more ``perflab check`` options, e.g. ``"--seed", "7"``.
    """
    why = grading_run()
    if why:
        print(f"check_my_work: skipped: this notebook is being graded right now ({why}).")
        return
    here = Path.cwd().resolve()
    path = find_notebook(notebook, here)
    if path is None:
        print("check_my_work: " + not_found_message(notebook, here))
        return
    warning = _unsaved_warning(path)
    if warning:
        print("check_my_work: " + warning, flush=True)
    _stream([sys.executable, "-m", "perflab", "check", _relative(path, here), *args], here)
    if warning:
        print("check_my_work: reminder: " + warning)
