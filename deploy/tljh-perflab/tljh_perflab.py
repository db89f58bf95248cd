"""The Littlest JupyterHub plugin for a perflab room.

Install TLJH with it (on a fresh Ubuntu/Debian server, as root)::

    curl -L https://tljh.jupyter.org/bootstrap.py | sudo python3 - \
        --admin TEACHER --plugin "git+REPO_URL#subdirectory=deploy/tljh-perflab"

What it does, through TLJH's hooks:

* ``tljh_extra_user_pip_packages``: installs perflab into the users' environment
  (``PERFLAB_PIP_SPEC`` at install time picks another source, e.g. a git URL);
* ``tljh_new_user_create``: gives each new user their copy of the curriculum in room
  mode (lessons and exercises, outputs cleared, no solutions) in ``~/perflab-curriculum``,
  owned by them;
* ``tljh_custom_jupyterhub_config``: each server starts through ``perflab.room``'s
  single-user wrapper, so it opens on 00_welcome inside the copy, ``perflab`` works in its
  terminals, and a copy that went missing is made again (never overwriting). Admins (the
  teachers) get a self-paced copy, with the solutions.

TLJH brings the rest a room needs: system users per learner, memory and CPU limits
(``tljh-config set limits.memory 2G``, ``limits.cpu 1``) and idle culling.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("tljh")

#: The users' environment TLJH creates.
USER_ENV = Path(os.environ.get("TLJH_USER_ENV", "/opt/tljh/user"))
COPY_NAME = "perflab-curriculum"


def system_name(username: str) -> str:
    """TLJH's Linux user for a hub user: ``jupyter-NAME`` (given either form)."""
    return username if username.startswith("jupyter-") else f"jupyter-{username}"


@hookimpl
def tljh_extra_user_pip_packages() -> list[str]:
    """perflab, into the users' environment."""
    return [os.environ.get("PERFLAB_PIP_SPEC", "perflab")]


@hookimpl
def tljh_new_user_create(username: str) -> None:
    """Make the new user's room copy in their home, owned by them."""
    user = pwd.getpwnam(system_name(username))
    copy = Path(user.pw_dir) / COPY_NAME
    subprocess.run(
        [str(USER_ENV / "bin" / "python"), "-m", "perflab", "lab", "--room", "--copy-only",
         "--dir", str(copy)],
        check=True,
    )  # fmt: skip
    for folder, _dirs, files in os.walk(copy):
        shutil.chown(folder, user.pw_uid, user.pw_gid)
        for name in files:
            shutil.chown(os.path.join(folder, name), user.pw_uid, user.pw_gid)


def _pre_spawn(spawner: Any) -> None:
    spawner.environment["PERFLAB_LAB_MODE"] = "self-paced" if spawner.user.admin else "room"


@hookimpl
def tljh_custom_jupyterhub_config(c: Any) -> None:
    """Start each server through perflab's wrapper, on 00_welcome in the copy."""
    c.Spawner.cmd = [str(USER_ENV / "bin" / "python"), "-m", "perflab.room", "singleuser"]
    c.Spawner.default_url = "/lab/tree/notebooks/00_welcome.ipynb"
    c.Spawner.pre_spawn_hook = _pre_spawn
