"""Lesson 03's command line: run ``python main.py ...`` from a notebook, in a scratch folder.

Lesson 03 does the guide's closing exercise verbatim (``python main.py cache warm``, then
``cache stats`` before and after lowering ``CACHE_SIMILARITY_THRESHOLD`` by 0.1). This module
holds the plumbing that makes that safe and repeatable, so the lesson shows one call:

* :func:`find_root` finds the repository root (the folder with ``main.py`` and ``perflab/``)
  above the folder Jupyter runs the notebook in;
* :func:`clean_env` copies the environment without any perflab setting exported in your shell
  and points perflab's data folder and cache file at a scratch folder, with the embedder
  (WordLlama) and backend (SQLite) pinned, so the output matches the saved one;
* :func:`main_py` runs the command with this Python, prints what ran and what it printed
  (the scratch folder's name replaced by ``<temporary folder>``), and returns the output.

Example::

    text = main_py("cache", "stats", data_dir=DATA, threshold=0.7)
    # prints "$ CACHE_SIMILARITY_THRESHOLD=0.7 python main.py cache stats" and the output

A ``.env`` file in the repository root is still read, as the command itself would read it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from perflab.config import Settings

__all__ = ["clean_env", "find_root", "main_py", "shown_command"]

#: The text that replaces the scratch folder's path in the output.
PLACEHOLDER = "<temporary folder>"
# "size on disk" depends on the SQLite build, so it is never compared.
_SIZE_LINE = re.compile(r"(?m)^(size on disk\s+).*$")


def find_root(start: Path) -> Path | None:
    """The repository root: the nearest folder at or above ``start`` with main.py and perflab/.

    ``None`` outside a checkout (an installed perflab): :func:`main_py` then runs
    ``python -m perflab`` instead of ``python main.py``.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "main.py").is_file() and (folder / "perflab").is_dir():
            return folder
    return None


def clean_env(data_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``environ`` (default ``os.environ``) for a repeatable perflab command.

    Every perflab setting (any name of :class:`perflab.config.Settings`, in any case) is left
    out; ``PERFLAB_DATA_DIR`` and ``PERFLAB_CACHE_PATH`` point into ``data_dir``, and the
    embedder and cache backend are pinned to ``wordllama`` and ``sqlite``.
    """
    settings = {name.upper() for name in Settings.model_fields}
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items() if k.upper() not in settings}
    env.update(
        PERFLAB_DATA_DIR=str(data_dir),
        PERFLAB_CACHE_PATH=str(Path(data_dir) / "cache.sqlite3"),
        PERFLAB_EMBEDDER="wordllama",
        PERFLAB_CACHE_BACKEND="sqlite",
    )
    return env


def shown_command(args: tuple[str, ...], threshold: float | None = None) -> str:
    """The command as a learner would type it: ``CACHE_SIMILARITY_THRESHOLD=0.7 python main.py ...``."""
    shown = "python main.py " + " ".join(f"'{a}'" if " " in a else a for a in args)
    if threshold is not None:
        shown = f"CACHE_SIMILARITY_THRESHOLD={threshold} {shown}"
    return shown


def main_py(
    *args: str,
    data_dir: Path,
    threshold: float | None = None,
    start: Path | None = None,
    timeout_s: float = 120.0,
    echo: bool = True,
) -> str:
    """Run ``python main.py ARGS`` with perflab's data in ``data_dir``; print and return its output.

    ``threshold`` sets ``CACHE_SIMILARITY_THRESHOLD`` for this one command. The command runs
    in the repository root found from ``start`` (default: the current folder), or as
    ``python -m perflab`` outside a checkout. A failing command raises ``RuntimeError`` with
    its error output. With ``echo`` (the default) the command and its output are printed,
    ``$ command`` first.
    """
    data_dir = Path(data_dir)
    env = clean_env(data_dir)
    if threshold is not None:
        env["CACHE_SIMILARITY_THRESHOLD"] = str(threshold)
    shown = shown_command(args, threshold)
    root = find_root(Path.cwd() if start is None else start)
    if root is not None:
        command = [sys.executable, "main.py", *args]
    else:
        command = [sys.executable, "-m", "perflab", *args]
    done = subprocess.run(
        command, check=False, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s
    )
    if done.returncode != 0:
        raise RuntimeError(f"{shown} failed ({done.returncode}): {done.stderr.strip()}")
    text = done.stdout
    # The longer path first, so a resolved path that contains the other is replaced whole.
    for path in sorted({str(data_dir.resolve()), str(data_dir)}, key=len, reverse=True):
        text = text.replace(path, PLACEHOLDER)
    text = _SIZE_LINE.sub(r"\1(not shown: depends on the SQLite build)", text)
    if echo:
        print(f"$ {shown}\n{text}", end="")
    return text
