"""A taught room on one server: JupyterHub settings, spawn hook and each learner's server.

``deploy/jupyterhub_config.py`` is three lines that call :func:`configure`; the pieces
live here so they are typed, documented and tested like the rest of perflab.

What a room is:

* **people**: a text file (``people.txt``), one ``teacher NAME`` or ``learner NAME`` a line.
  Everyone logs in with a room password (JupyterHub's shared-password authenticator);
  teachers are the Hub's admins and log in with their own, longer password, so a learner
  who knows the room password cannot log in as a teacher;
* **each learner's server** runs ``python -m perflab.room singleuser``, which makes the
  learner's copy (room mode: lessons and exercises, no solutions; outputs cleared; never
  overwriting) in ``~/perflab-curriculum`` and then starts ``jupyterhub-singleuser`` on it,
  set up as ``perflab lab`` is (opens on 00_welcome, ``perflab`` on the terminals' PATH);
  a teacher's server gets a self-paced copy, with the solutions;
* **limits**: each server gets ``mem_limit`` and ``cpu_limit`` (enforced by the systemd
  spawner, the default); idle servers are stopped by ``jupyterhub-idle-culler``;
* **grading**: the spawn hook links ``ROOM/submissions/NAME`` to the learner's exercises,
  so a teacher grades the room with ``perflab check ROOM/submissions --csv room.csv``.
  Teachers are admins, so they can also open any learner's server (``access:servers``).

Settings come from ``PERFLAB_ROOM_*`` environment variables (:class:`RoomSettings`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.errors import PerflabError

__all__ = [
    "COPY_NAME",
    "People",
    "RoomSettings",
    "configure",
    "make_pre_spawn_hook",
    "read_people",
    "singleuser",
]

#: The learner's copy, in their home folder.
COPY_NAME = "perflab-curriculum"

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")  # also a valid Linux user name
_MEMORY = re.compile(r"^[1-9][0-9]*[KMGT]?$")


@dataclass(frozen=True)
class People:
    """Who is in the room.

    Attributes:
        teachers: the teachers' user names (the Hub's admins).
        learners: the learners' user names.
    """

    teachers: tuple[str, ...]
    learners: tuple[str, ...]


def read_people(path: Path) -> People:
    """Read ``people.txt``: ``teacher NAME`` or ``learner NAME`` a line; ``#`` comments.

    Raises:
        PerflabError: the file is missing, a line is not one of those, a name is not
            a valid user name, someone is listed twice, or there is no teacher.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PerflabError(f"can't read the room's people file {path}: {exc}") from exc
    found: dict[str, list[str]] = {"teacher": [], "learner": []}
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) != 2 or words[0] not in found:
            raise PerflabError(
                f"{path}:{number}: {line.strip()!r} is not 'teacher NAME' or 'learner NAME'"
            )
        role, name = words
        if not _NAME.match(name):
            raise PerflabError(
                f"{path}:{number}: {name!r} is not a user name: use 1-32 lowercase letters, "
                "digits, '-' or '_', starting with a letter"
            )
        if name in seen:
            raise PerflabError(f"{path}:{number}: {name!r} is listed twice")
        seen.add(name)
        found[role].append(name)
    if not found["teacher"]:
        raise PerflabError(f"{path} names no teacher: add a line 'teacher NAME'")
    return People(tuple(found["teacher"]), tuple(found["learner"]))


@dataclass(frozen=True)
class RoomSettings:
    """A room's settings, from ``PERFLAB_ROOM_*`` environment variables.

    Attributes:
        room_dir: the room's folder (PERFLAB_ROOM_DIR, default ``/srv/perflab``): the Hub's
            database and cookie secret, ``people.txt``, and ``submissions/``.
        people_file: PERFLAB_ROOM_PEOPLE (default ``ROOM/people.txt``).
        learner_password: PERFLAB_ROOM_PASSWORD, the room password (at least 8 characters).
        teacher_password: PERFLAB_TEACHER_PASSWORD (at least 32 characters).
        mem_limit: PERFLAB_ROOM_MEM, memory per server, e.g. ``2G`` (default).
        cpu_limit: PERFLAB_ROOM_CPU, CPUs per server (default 1.0).
        idle_minutes: PERFLAB_ROOM_IDLE_MINUTES, stop a server idle this long (default 60).
        exercises: PERFLAB_ROOM_EXERCISES, the exercises learners get, comma-separated
            parts of names (default: all).
        system_users: PERFLAB_ROOM_SYSTEM_USERS (``1``, default): the spawn hook creates a
            Linux user per person (home folder readable by the teachers' group).
    """

    room_dir: Path
    people_file: Path
    learner_password: str
    teacher_password: str
    mem_limit: str = "2G"
    cpu_limit: float = 1.0
    idle_minutes: int = 60
    exercises: tuple[str, ...] = ()
    system_users: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RoomSettings:
        """Read the settings; a bad value names the variable, the value and what is allowed.

        Raises:
            PerflabError: a value is missing or not allowed.
        """
        env = os.environ if env is None else env
        room = Path(env.get("PERFLAB_ROOM_DIR", "/srv/perflab"))
        mem = env.get("PERFLAB_ROOM_MEM", "2G").strip().upper()
        if not _MEMORY.match(mem):
            raise PerflabError(f"PERFLAB_ROOM_MEM={mem!r}: use a size like 512M or 2G")
        cpu = _number(env, "PERFLAB_ROOM_CPU", "1.0", float)
        idle = _number(env, "PERFLAB_ROOM_IDLE_MINUTES", "60", int)
        system = env.get("PERFLAB_ROOM_SYSTEM_USERS", "1").strip()
        if system not in ("0", "1"):
            raise PerflabError(f"PERFLAB_ROOM_SYSTEM_USERS={system!r}: use 1 or 0")
        chosen = env.get("PERFLAB_ROOM_EXERCISES", "")
        return cls(
            room_dir=room,
            people_file=Path(env.get("PERFLAB_ROOM_PEOPLE", str(room / "people.txt"))),
            learner_password=_password(env, "PERFLAB_ROOM_PASSWORD", 8),
            teacher_password=_password(env, "PERFLAB_TEACHER_PASSWORD", 32),
            mem_limit=mem,
            cpu_limit=float(cpu),
            idle_minutes=int(idle),
            exercises=tuple(p.strip() for p in chosen.split(",") if p.strip()),
            system_users=system == "1",
        )


def _number(env: Mapping[str, str], name: str, default: str, kind: type[float | int]) -> float:
    raw = env.get(name, default).strip()
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not value > 0:
        raise PerflabError(f"{name}={raw!r}: use a number > 0")
    return value


def _password(env: Mapping[str, str], name: str, shortest: int) -> str:
    value = env.get(name, "")
    if len(value) < shortest:  # the value itself is never shown: it is a secret
        raise PerflabError(
            f"{name} must be set to a password of at least {shortest} characters "
            f"(it has {len(value)})"
        )
    return value


def make_pre_spawn_hook(settings: RoomSettings, people: People) -> Callable[[Any], None]:
    """The Hub's ``pre_spawn_hook``: the user's account, mode and submissions link.

    Runs in the Hub before each server starts: it creates the Linux user when
    ``system_users`` is on, tells the server whether to make a room or a self-paced copy,
    and links ``ROOM/submissions/NAME`` to a learner's ``~/perflab-curriculum/exercises``
    (the link may point at nothing until the server has made the copy).
    """

    def hook(spawner: Any) -> None:
        name = str(spawner.user.name)
        is_teacher = name in people.teachers
        if settings.system_users:
            _ensure_system_user(name, teacher=is_teacher)
        spawner.environment["PERFLAB_LAB_MODE"] = "self-paced" if is_teacher else "room"
        if settings.exercises:
            spawner.environment["PERFLAB_ROOM_EXERCISES"] = ",".join(settings.exercises)
        if not is_teacher:
            link = settings.room_dir / "submissions" / name
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(_home_of(spawner) / COPY_NAME / "exercises")

    return hook


def _home_of(spawner: Any) -> Path:
    home = getattr(spawner, "home_dir", None)  # SimpleLocalProcessSpawner has one
    if isinstance(home, str) and home:
        return Path(home)
    import pwd

    return Path(pwd.getpwnam(spawner.user.name).pw_dir)


def _ensure_system_user(name: str, *, teacher: bool) -> None:
    """Create the Linux user ``name`` if missing; teachers' group can read its home."""
    import grp
    import pwd

    for group in ("perflab-teachers",):
        try:
            grp.getgrnam(group)
        except KeyError:
            subprocess.run(["groupadd", group], check=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        extra = ["--groups", "perflab-teachers"] if teacher else []
        subprocess.run(["useradd", "--create-home", "--user-group", *extra, name], check=True)
    home = Path(pwd.getpwnam(name).pw_dir)
    shutil.chown(home, group="perflab-teachers")
    home.chmod(0o750)  # the owner and the teachers; not the other learners


def configure(c: Any, settings: RoomSettings, people: People) -> None:
    """Apply a room's settings to a JupyterHub config object ``c``.

    Args:
        c: the ``get_config()`` object of ``jupyterhub_config.py``.
        settings: the room's settings (see :class:`RoomSettings`).
        people: who is in the room (see :func:`read_people`).
    """
    settings.room_dir.mkdir(parents=True, exist_ok=True)
    c.JupyterHub.db_url = f"sqlite:///{settings.room_dir / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(settings.room_dir / "jupyterhub_cookie_secret")

    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = settings.learner_password
    c.SharedPasswordAuthenticator.admin_password = settings.teacher_password
    c.Authenticator.admin_users = set(people.teachers)
    c.Authenticator.allowed_users = set(people.teachers) | set(people.learners)
    c.JupyterHub.load_groups = {
        "teachers": {"users": list(people.teachers)},
        "learners": {"users": list(people.learners)},
    }

    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.Spawner.cmd = [sys.executable, "-m", "perflab.room", "singleuser"]
    c.Spawner.default_url = "/lab/tree/notebooks/00_welcome.ipynb"
    c.Spawner.mem_limit = settings.mem_limit
    c.Spawner.cpu_limit = settings.cpu_limit
    c.Spawner.pre_spawn_hook = make_pre_spawn_hook(settings, people)

    idle_s = settings.idle_minutes * 60
    c.JupyterHub.services = [
        {
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle_s}"],
        }
    ]
    c.JupyterHub.load_roles = [
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        }
    ]


def singleuser(argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
    """Make the user's copy, write its Jupyter setup; return the server's command.

    The copy is ``$PERFLAB_COPY`` or ``~/perflab-curriculum``, in ``$PERFLAB_LAB_MODE``
    (``room`` by default), with ``$PERFLAB_ROOM_EXERCISES`` if set. ``argv`` (what the
    Hub passes) is appended to ``python -m jupyterhub.singleuser``.
    """
    from perflab.curriculum import Mode, make_copy
    from perflab.labsetup import write_jupyter_config
    from perflab.paths import curriculum_root

    env = os.environ if env is None else env
    copy = Path(env.get("PERFLAB_COPY") or Path(env.get("HOME", "~")).expanduser() / COPY_NAME)
    mode = Mode(env.get("PERFLAB_LAB_MODE", Mode.ROOM.value))
    chosen = [p for p in env.get("PERFLAB_ROOM_EXERCISES", "").split(",") if p.strip()]
    report = make_copy(curriculum_root(), copy, mode, chosen or None)
    print(f"perflab: {report.summary()}", file=sys.stderr)
    write_jupyter_config(copy)
    return [sys.executable, "-m", "jupyterhub.singleuser", f"--ServerApp.root_dir={copy}", *argv]


def _main(argv: Sequence[str]) -> int:
    if not argv or argv[0] != "singleuser":
        print("usage: python -m perflab.room singleuser [jupyterhub-singleuser options]")
        return 2
    from perflab.labsetup import jupyter_environment

    try:
        command = singleuser(argv[1:])
    except PerflabError as exc:
        print(f"perflab: error: {exc}", file=sys.stderr)
        return 2
    root = Path(command[3].split("=", 1)[1])
    os.execve(command[0], command, jupyter_environment(root))  # becomes the server
    return 0  # not reached: execve replaces this process


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
