"""How ``perflab lab`` sets JupyterLab up for a learner's working copy.

Three things a newcomer should not have to fix by hand:

* **where it opens**: on ``notebooks/00_welcome.ipynb``, in the copy (not the repository);
* **``perflab`` on the PATH** in the terminals and in ``!`` commands. Kernels inherit the
  server's environment, so the server's PATH starts with the folder of this Python's
  scripts. A terminal is a *login* shell by default, and a login shell rebuilds PATH from
  /etc/profile, losing that folder; so terminals run bash with an rc file of ours
  (``.perflab/bashrc``: your usual bash start-up, then that folder first on PATH);
* **no "Jupyter news" prompt**: the announcements plugin is disabled and the server never
  checks for updates (the course runs offline).

Everything is written into ``.perflab/`` inside the copy and reaches Jupyter through
``JUPYTER_CONFIG_PATH``, which Jupyter reads *in addition to* your own config, so your
settings and extensions keep working.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

__all__ = [
    "START_PAGE",
    "jupyter_arguments",
    "jupyter_environment",
    "scripts_folders",
    "write_jupyter_config",
]

#: The notebook the learner lands on, relative to the copy.
START_PAGE = "notebooks/00_welcome.ipynb"

_CONFIG = Path(".perflab") / "jupyter"
_BASHRC = Path(".perflab") / "bashrc"
_NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"


def scripts_folders() -> list[Path]:
    """The folders holding this Python and its ``perflab`` script, in PATH order.

    Usually one folder (a virtual environment's ``bin``); a ``pip install --user`` puts
    the script in a second one.
    """
    folders = [Path(sys.executable).parent]  # not resolved: a venv's python is a symlink
    schemes = [sysconfig.get_default_scheme(), f"{os.name}_user"]
    for scheme in schemes:
        try:
            folder = Path(sysconfig.get_path("scripts", scheme))
        except KeyError:
            continue
        if any((folder / name).exists() for name in ("perflab", "perflab.exe")):
            folders.append(folder)
    return list(dict.fromkeys(folders))


def write_jupyter_config(root: Path) -> Path:
    """Write perflab's Jupyter config into ``root/.perflab``; return the config folder.

    Rewritten on every start (it is ours, not the learner's), each file atomically.
    """
    config = root / _CONFIG
    server: dict[str, object] = {
        "LabApp": {"check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
    }
    shell = _terminal_command(root)
    if shell is not None:
        server["ServerApp"] = {"terminado_settings": {"shell_command": shell}}
        _write(root / _BASHRC, _bashrc())
    _write(config / "jupyter_server_config.json", json.dumps(server, indent=1) + "\n")
    page = {"disabledExtensions": {_NEWS_PLUGIN: True}}
    _write(config / "labconfig" / "page_config.json", json.dumps(page, indent=1) + "\n")
    return config


def jupyter_environment(root: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment to start Jupyter with: scripts first on PATH, our config added.

    Args:
        root: the working copy (its ``.perflab/jupyter`` is added to JUPYTER_CONFIG_PATH).
        base: the environment to start from (default: this process's).
    """
    env = dict(os.environ if base is None else base)
    path = [str(p) for p in scripts_folders()]
    path += [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in path]
    env["PATH"] = os.pathsep.join(path)
    config = [str(root / _CONFIG)]
    config += [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(dict.fromkeys(config))
    return env


def jupyter_arguments(root: Path) -> list[str]:
    """The server options: the copy as its root, and the welcome notebook as its start."""
    args = [f"--ServerApp.root_dir={root}"]
    if (root / START_PAGE).is_file():
        args.append(f"--LabApp.default_url=/lab/tree/{START_PAGE}")
    return args


def _terminal_command(root: Path) -> list[str] | None:
    if os.name == "nt":  # PowerShell inherits the server's PATH as it is
        return None
    bash = shutil.which("bash")
    if bash is not None:
        return [bash, "--rcfile", str(root / _BASHRC), "-i"]
    return [os.environ.get("SHELL") or shutil.which("sh") or "/bin/sh", "-i"]  # not a login shell


def _bashrc() -> str:
    first = ":".join(shlex.quote(str(p)) for p in scripts_folders())
    return (
        "# Written by `perflab lab` (rewritten at each start): your usual bash start-up,\n"
        "# then perflab's Python first on PATH, so `perflab` and `python` are the course's.\n"
        "[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n"
        '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n'
        f'export PATH={first}:"$PATH"\n'
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
