"""perflab.room without a Hub: the people file, the settings, the config, the spawn hook."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from perflab.errors import PerflabError
from perflab.room import People, RoomSettings, configure, make_pre_spawn_hook, read_people

GOOD_ENV = {
    "PERFLAB_ROOM_PASSWORD": "room-pass-123",
    "PERFLAB_TEACHER_PASSWORD": "t" * 32,
}


def test_people_file_is_read_with_comments(tmp_path: Path) -> None:
    people = tmp_path / "people.txt"
    people.write_text("# the room\nteacher tess\n\nlearner ada  # front row\nlearner bo\n")
    assert read_people(people) == People(("tess",), ("ada", "bo"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("teacher tess\nstudent ada\n", "people.txt:2: 'student ada' is not 'teacher NAME'"),
        ("teacher tess\nlearner Ada\n", "'Ada' is not a user name"),
        ("teacher tess\nlearner ada\nlearner ada\n", "people.txt:3: 'ada' is listed twice"),
        ("learner ada\n", "names no teacher"),
        ("teacher tess extra\n", "is not 'teacher NAME' or 'learner NAME'"),
    ],
)
def test_a_bad_people_file_says_which_line_and_why(tmp_path: Path, text: str, message: str) -> None:
    people = tmp_path / "people.txt"
    people.write_text(text)
    with pytest.raises(PerflabError, match=message.replace("(", r"\(")):
        read_people(people)


def test_settings_defaults_and_values(tmp_path: Path) -> None:
    settings = RoomSettings.from_env(
        {
            **GOOD_ENV,
            "PERFLAB_ROOM_DIR": str(tmp_path),
            "PERFLAB_ROOM_MEM": "1g",
            "PERFLAB_ROOM_EXERCISES": "01, 02",
        }
    )
    assert settings.people_file == tmp_path / "people.txt"
    assert (settings.mem_limit, settings.cpu_limit, settings.idle_minutes) == ("1G", 1.0, 60)
    assert settings.exercises == ("01", "02") and settings.system_users


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PERFLAB_ROOM_MEM", "lots", "PERFLAB_ROOM_MEM='LOTS': use a size like 512M or 2G"),
        ("PERFLAB_ROOM_CPU", "-1", "PERFLAB_ROOM_CPU='-1': use a number > 0"),
        ("PERFLAB_ROOM_IDLE_MINUTES", "1.5", "PERFLAB_ROOM_IDLE_MINUTES='1.5': use a number"),
        ("PERFLAB_ROOM_SYSTEM_USERS", "yes", "use 1 or 0"),
        ("PERFLAB_ROOM_PASSWORD", "short", "at least 8 characters \\(it has 5\\)"),
        ("PERFLAB_TEACHER_PASSWORD", "x" * 31, "at least 32 characters \\(it has 31\\)"),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_is_allowed(
    name: str, value: str, message: str
) -> None:
    with pytest.raises(PerflabError, match=message) as caught:
        RoomSettings.from_env({**GOOD_ENV, name: value})
    if "PASSWORD" in name:
        assert value not in str(caught.value)  # a secret is never echoed


def test_configure_sets_accounts_limits_culling_and_the_server_command(tmp_path: Path) -> None:
    settings = RoomSettings.from_env(
        {**GOOD_ENV, "PERFLAB_ROOM_DIR": str(tmp_path), "PERFLAB_ROOM_CPU": "0.5"}
    )
    c = Config()
    configure(c, settings, People(("tess",), ("ada", "bo")))
    assert c.Authenticator.admin_users == {"tess"}
    assert c.Authenticator.allowed_users == {"tess", "ada", "bo"}
    assert c.SharedPasswordAuthenticator.user_password == "room-pass-123"
    assert (c.Spawner.mem_limit, c.Spawner.cpu_limit) == ("2G", 0.5)
    assert c.Spawner.cmd == [sys.executable, "-m", "perflab.room", "singleuser"]
    assert c.Spawner.default_url == "/lab/tree/notebooks/00_welcome.ipynb"
    [culler] = c.JupyterHub.services
    assert culler["command"][-1] == "--timeout=3600"
    assert "delete:servers" in c.JupyterHub.load_roles[0]["scopes"]
    assert c.JupyterHub.db_url == f"sqlite:///{tmp_path / 'jupyterhub.sqlite'}"


def test_the_spawn_hook_sets_the_mode_and_links_a_learners_exercises(tmp_path: Path) -> None:
    settings = RoomSettings.from_env(
        {
            **GOOD_ENV,
            "PERFLAB_ROOM_DIR": str(tmp_path / "room"),
            "PERFLAB_ROOM_SYSTEM_USERS": "0",
            "PERFLAB_ROOM_EXERCISES": "01",
        }
    )
    hook = make_pre_spawn_hook(settings, People(("tess",), ("ada",)))

    def spawner(name: str) -> SimpleNamespace:
        home = str(tmp_path / "homes" / name)
        return SimpleNamespace(user=SimpleNamespace(name=name), home_dir=home, environment={})

    ada, tess = spawner("ada"), spawner("tess")
    hook(ada)
    hook(tess)
    hook(ada)  # a second spawn keeps the link
    assert ada.environment == {"PERFLAB_LAB_MODE": "room", "PERFLAB_ROOM_EXERCISES": "01"}
    assert tess.environment["PERFLAB_LAB_MODE"] == "self-paced"
    link = tmp_path / "room" / "submissions" / "ada"
    assert link.readlink() == tmp_path / "homes" / "ada" / "perflab-curriculum" / "exercises"
    assert not (tmp_path / "room" / "submissions" / "tess").exists()


def test_singleuser_makes_a_room_copy_and_returns_the_server_command(tmp_path: Path) -> None:
    from perflab.room import singleuser

    env = {"HOME": str(tmp_path), "PERFLAB_LAB_MODE": "room", "PERFLAB_ROOM_EXERCISES": "01"}
    command = singleuser(["--port=1234"], env)
    copy = tmp_path / "perflab-curriculum"
    assert command == [
        sys.executable,
        "-m",
        "jupyterhub.singleuser",
        f"--ServerApp.root_dir={copy}",
        "--port=1234",
    ]
    assert [p.name for p in (copy / "exercises").iterdir()] == ["01_percentiles.ipynb"]
    assert not (copy / "solutions").exists()
    assert (copy / ".perflab" / "jupyter" / "jupyter_server_config.json").is_file()
