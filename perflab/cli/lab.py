"""``perflab lab`` opens JupyterLab on the curriculum; ``perflab reset`` restores one notebook.

Where the learner works (the *workspace*):

* in a source checkout, the checkout itself (``notebooks/``, ``exercises/``, ``solutions/``),
  and the pristine originals are the committed files (``git show HEAD:...``);
* from an installed wheel, a working copy in ``./perflab-curriculum``, made from the
  packaged originals in ``perflab/_curriculum`` the first time, so those are never edited;
* with ``--dir DIR``, a working copy in DIR, made from whichever of the two exists.

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

from perflab.errors import PerflabError

__all__ = [
    "WORKING_COPY",
    "Workspace",
    "find_notebook",
    "make_working_copy",
    "register",
    "reset_notebook",
    "workspace",
]

WORKING_COPY = "perflab-curriculum"
_KEPT = re.compile(r"\.old\d+\.ipynb$")  # a learner's earlier version, kept by reset


@dataclass(frozen=True)
class Workspace:
    """Where the learner works and where the untouched originals come from.

    Attributes:
        root: the folder JupyterLab opens; holds notebooks/, exercises/, solutions/.
        pristine: the folder of the originals, or ``None`` in a checkout (git HEAD).
    """

    root: Path
    pristine: Path | None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``lab`` and ``reset``."""
    lab = subparsers.add_parser(
        "lab",
        help="open JupyterLab on the curriculum",
        description="Open JupyterLab on the curriculum. From a checkout it opens the checkout; "
        f"from an installed package it first copies the curriculum to ./{WORKING_COPY} (once) and "
        "opens that, so the packaged originals stay pristine.",
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
        help="work in DIR (a copy of the curriculum is made there if missing)",
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
        help="a path (exercises/beginner/01_measure_first.ipynb) or a unique part of a name (01_measure)",
    )
    reset.add_argument(
        "--dir", type=Path, metavar="DIR", help="the working copy (default: as for `perflab lab`)"
    )
    reset.set_defaults(func=_reset)


def workspace(directory: Path | None = None, *, cwd: Path | None = None) -> Workspace:
    """Decide where the learner works; see the module docstring for the rules."""
    from perflab.paths import curriculum_root, is_checkout

    source = curriculum_root()
    if directory is not None:
        return Workspace(directory.expanduser().resolve(), source)
    if is_checkout():
        return Workspace(source, None)
    return Workspace(((cwd or Path.cwd()) / WORKING_COPY).resolve(), source)


def make_working_copy(space: Workspace) -> list[Path]:
    """Copy the originals' files missing from the workspace (never overwrites).

    Returns:
        The files copied (empty when the workspace is up to date, or is the checkout).
    """
    from perflab.paths import CURRICULUM_FOLDERS

    if space.pristine is None or space.pristine == space.root:
        return []
    copied = []
    for folder in CURRICULUM_FOLDERS:
        for original in sorted((space.pristine / folder).rglob("*")):
            rel = original.relative_to(space.pristine)
            if not original.is_file() or any(
                part in (".ipynb_checkpoints", "__pycache__") for part in rel.parts
            ):
                continue
            target = space.root / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(original, target)  # content only: packaged files may be read-only
                copied.append(target)
    return copied


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
        return original.read_bytes()
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

    space = workspace(args.dir)
    copied = make_working_copy(space)
    if copied:
        print(f"copied {len(copied)} curriculum files to {space.root}", file=sys.stderr)
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={space.root}"]
    if args.no_browser:
        command.append("--no-browser")
    if args.port is not None:
        command.append(f"--port={args.port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers (Docker, CI) often run as root, which JupyterLab refuses without this.
        command.append("--allow-root")
    if args.print_command:
        print(" ".join(command))
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise PerflabError(
            "JupyterLab is not installed: pip install jupyterlab (or pip install perflab)"
        )
    print(f"opening JupyterLab on {space.root} (Ctrl-C to stop)", file=sys.stderr)
    try:
        return subprocess.call(command, cwd=space.root, env=os.environ.copy())
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
