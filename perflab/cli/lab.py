"""``perflab lab`` opens JupyterLab on the learner's copy; ``perflab reset`` restores one notebook.

Where the learner works (the *workspace*) is always a working copy, never the repository's
or the wheel's own notebooks (those keep their executed outputs for nbval and the website):

* by default ``./perflab-curriculum``, made from the checkout or from the wheel's
  ``perflab/_curriculum``, whichever perflab runs from; started from inside an existing
  copy, that copy;
* with ``--dir DIR``, a working copy in DIR (``--dir`` naming the checkout itself works on
  the checkout, as before: the originals are then the committed files, ``git show HEAD:``).

The copy's notebooks have their outputs cleared (see :mod:`perflab.curriculum`); with
``--room`` it has no solutions. Re-running never overwrites a file the learner has.

``reset`` renames the learner's notebook to ``NAME.old1.ipynb`` (``old2``... if taken)
and puts a fresh copy of the original in its place: nothing the learner wrote is lost.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from perflab.errors import PerflabError

__all__ = [
    "WORKING_COPY",
    "Workspace",
    "find_notebook",
    "lab_command",
    "launch",
    "make_working_copy",
    "register",
    "reset_notebook",
    "workspace",
]

WORKING_COPY = "perflab-curriculum"
_KEPT = re.compile(r"\.old\d+\.ipynb$")  # a learner's earlier version, kept by reset

if TYPE_CHECKING:
    from perflab.curriculum import CopyReport, Mode


@dataclass(frozen=True)
class Workspace:
    """Where the learner works and where the untouched originals come from.

    Attributes:
        root: the folder JupyterLab opens; holds notebooks/, exercises/ (and solutions/).
        pristine: the folder of the originals, or ``None`` when working in a checkout
            itself (the originals are then git HEAD).
    """

    root: Path
    pristine: Path | None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lab`` and ``reset``."""
    lab = subparsers.add_parser(
        "lab",
        help="open JupyterLab on your copy of the curriculum",
        description="Open JupyterLab on your own copy of the curriculum, at 00_welcome. The "
        f"first run copies the lessons and exercises (outputs cleared) to ./{WORKING_COPY}; "
        "later runs add only files that are missing and never overwrite your work. "
        "`perflab` works in its terminals and in `!` commands.",
    )
    lab.add_argument(
        "--no-browser", action="store_true", help="start the server without opening a browser"
    )
    lab.add_argument(
        "--port", type=int, metavar="N", help="the port to listen on (default: JupyterLab's, 8888)"
    )
    lab.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help=f"work in DIR (default ./{WORKING_COPY}); a copy is made there if missing",
    )
    lab.add_argument(
        "--room",
        action="store_true",
        help="a copy for a taught room: lessons and exercises, no solutions",
    )
    lab.add_argument(
        "--exercises",
        metavar="LIST",
        help="copy only these exercises, comma-separated parts of their names "
        "(e.g. 01,02,03,04 for a beginner session); the lessons are always copied",
    )
    lab.add_argument(
        "--copy-only",
        action="store_true",
        help="make or update the copy, say what was copied and kept, and stop",
    )
    lab.add_argument(
        "--print-command",
        action="store_true",
        help="print the jupyter command instead of running it",
    )
    lab.set_defaults(func=_lab)

    reset = subparsers.add_parser(
        "reset",
        help="give back a fresh copy of one exercise (the old one is kept)",
        description="Replace NOTEBOOK with a fresh copy of its original. Your version is kept "
        "beside it as NAME.old1.ipynb (old2, old3... if taken).",
    )
    reset.add_argument(
        "notebook",
        metavar="NOTEBOOK",
        help="a path (exercises/03_cache_economics.ipynb) or a unique part of a name (03_cache)",
    )
    reset.add_argument(
        "--dir", type=Path, metavar="DIR", help="the working copy (default: as for `perflab lab`)"
    )
    reset.set_defaults(func=_reset)


def workspace(directory: Path | None = None, *, cwd: Path | None = None) -> Workspace:
    """Decide where the learner works; see the module docstring for the rules."""
    from perflab.curriculum import find_copy
    from perflab.paths import curriculum_root, is_checkout

    source = curriculum_root()
    here = (cwd or Path.cwd()).resolve()
    if directory is not None:
        root = (here / directory.expanduser()).resolve()
        if root == source and is_checkout():
            return Workspace(source, None)  # working in the checkout itself, on purpose
        return Workspace(root, source)
    inside = find_copy(here)
    if inside is not None:
        return Workspace(inside, source)
    return Workspace(here / WORKING_COPY, source)


def make_working_copy(
    space: Workspace, mode: Mode | None = None, exercises: list[str] | None = None
) -> CopyReport | None:
    """Copy the originals' files missing from the workspace (never overwrites).

    Args:
        space: the workspace; nothing is copied when it is the checkout itself.
        mode: self-paced (default) or room, for a new copy; a copy keeps its first mode.
        exercises: only these exercises (parts of their names); ``None`` for all.

    Returns:
        What was copied and kept, or ``None`` when the workspace is the checkout.
    """
    from perflab.curriculum import Mode, make_copy

    if space.pristine is None or space.pristine == space.root:
        return None
    return make_copy(space.pristine, space.root, mode or Mode.SELF_PACED, exercises)


def lab_command(root: Path, *, no_browser: bool = False, port: int | None = None) -> list[str]:
    """The command that starts JupyterLab on ``root`` with the Python running perflab."""
    from perflab.labsetup import jupyter_arguments

    command = [sys.executable, "-m", "jupyter", "lab", *jupyter_arguments(root)]
    if no_browser:
        command.append("--no-browser")
    if port is not None:
        command.append(f"--port={port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers (Docker, CI) often run as root, which JupyterLab refuses without this.
        command.append("--allow-root")
    return command


def find_notebook(space: Workspace, name: str, *, cwd: Path | None = None) -> Path:
    """The workspace path of the notebook ``name`` refers to (which may not exist yet).

    ``name`` is a path (relative to the current folder or to the workspace) or a part of
    a notebook's name; an exercise wins over the lesson of the same name.

    Raises:
        PerflabError: no notebook, or several, match.
    """
    given = Path(name)
    if given.suffix == ".ipynb":
        for candidate in (((cwd or Path.cwd()) / given).resolve(), (space.root / given).resolve()):
            if space.root in candidate.parents and (
                candidate.exists() or _original_exists(space, candidate)
            ):
                return candidate
    stem = given.name.removesuffix(".ipynb")
    matches = sorted(
        {
            found.relative_to(base)
            for base in _bases(space)
            for folder in ("exercises", "notebooks")
            for found in (base / folder).rglob(f"*{stem}*.ipynb")
            if not _KEPT.search(found.name) and ".ipynb_checkpoints" not in found.parts
        }
    )
    exercises = [m for m in matches if m.parts[0] == "exercises"]
    chosen = exercises or matches
    if len(chosen) == 1:
        return space.root / chosen[0]
    if not chosen:
        raise PerflabError(f"no notebook matches {name!r} in {space.root}/exercises or notebooks")
    listed = ", ".join(map(str, chosen[:5]))
    raise PerflabError(f"{name!r} matches {len(chosen)} notebooks: {listed}; be more precise")


def reset_notebook(space: Workspace, notebook: Path) -> Path | None:
    """Put a fresh original at ``notebook``; return where the old one went (or ``None``).

    Raises:
        PerflabError: the notebook has no original to restore from.
    """
    rel = notebook.relative_to(space.root)
    fresh = _original_bytes(space, rel)
    kept = None
    if notebook.exists():
        n = 1
        while notebook.with_name(f"{notebook.stem}.old{n}.ipynb").exists():
            n += 1
        kept = notebook.rename(notebook.with_name(f"{notebook.stem}.old{n}.ipynb"))
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_bytes(fresh)
    return kept


def _bases(space: Workspace) -> list[Path]:
    return [space.root] + ([space.pristine] if space.pristine is not None else [])


def _original_exists(space: Workspace, path: Path) -> bool:
    rel = path.relative_to(space.root)
    return space.pristine is not None and (space.pristine / rel).is_file()


def _original_bytes(space: Workspace, rel: Path) -> bytes:
    if space.pristine is not None:
        original = space.pristine / rel
        if not original.is_file():
            raise PerflabError(
                f"{rel} has no original in {space.pristine}: only curriculum notebooks can be reset"
            )
        from perflab.curriculum import cleared_notebook

        return cleared_notebook(original.read_bytes())  # as the copy had it: outputs cleared
    # A checkout: the original is the committed version.
    git = shutil.which("git")
    if git is None:
        raise PerflabError(
            "resetting a notebook in a checkout needs git (the original is the committed version)"
        )
    done = subprocess.run(
        [git, "-C", str(space.root), "show", f"HEAD:{rel.as_posix()}"],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise PerflabError(
            f"{rel} is not committed in {space.root}, so there is no original to restore"
        )
    return done.stdout


def _lab(args: argparse.Namespace) -> int:
    import importlib.util

    from perflab.curriculum import Mode
    from perflab.labsetup import jupyter_environment, write_jupyter_config

    space = workspace(args.dir)
    chosen = args.exercises.split(",") if args.exercises else None
    report = make_working_copy(space, Mode.ROOM if args.room else Mode.SELF_PACED, chosen)
    if report is None:
        print(f"working in the checkout itself: {space.root}", file=sys.stderr)
    else:
        print(report.summary(), file=sys.stderr)
        if report.kept:
            print(
                "  your files were left as they are; `perflab reset NAME` gives you a fresh "
                "copy of one (yours is kept beside it)",
                file=sys.stderr,
            )
        if report.mode is Mode.SELF_PACED:
            print("  solutions are in solutions/: try each exercise first", file=sys.stderr)
    if args.copy_only:
        print(space.root)
        return 0
    write_jupyter_config(space.root)
    command = lab_command(space.root, no_browser=args.no_browser, port=args.port)
    if args.print_command:
        print(" ".join(command))
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise PerflabError(
            "JupyterLab is not installed: pip install jupyterlab (or pip install perflab)"
        )
    print(f"opening JupyterLab on {space.root} (Ctrl-C to stop)", file=sys.stderr)
    return launch(command, space.root, jupyter_environment(space.root))


def launch(command: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run JupyterLab in ``cwd``; on POSIX this process *becomes* it and never returns.

    Becoming JupyterLab (``exec``: the same process id) means a signal sent to
    ``perflab lab`` (Ctrl-C, a service manager's SIGTERM) reaches the server itself
    instead of leaving it running as an orphan. Elsewhere it runs as a child.
    """
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.chdir(cwd)
        os.execvpe(command[0], command, env)
    try:
        return subprocess.call(command, cwd=cwd, env=env)
    except KeyboardInterrupt:  # the normal way to stop a JupyterLab server
        return 0


def _reset(args: argparse.Namespace) -> int:
    space = workspace(args.dir)
    notebook = find_notebook(space, args.notebook)
    kept = reset_notebook(space, notebook)
    rel = notebook.relative_to(space.root)
    if kept is None:
        print(f"restored {rel} (there was no copy to keep)")
    else:
        print(f"restored {rel}; your version is now {kept.relative_to(space.root)}")
    return 0
