"""The TLJH plugin's hooks, without TLJH (which needs systemd): each hook, called as TLJH would."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pluggy
import pytest
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "deploy" / "tljh-perflab" / "tljh_perflab.py"


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The plugin module, with TLJH's user environment pointing at this Python's."""
    monkeypatch.setenv("TLJH_USER_ENV", str(Path(sys.executable).parent.parent))
    spec = importlib.util.spec_from_file_location("tljh_perflab", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hooks_register_with_tljhs_hook_names(plugin: ModuleType) -> None:
    """A pluggy manager for project "tljh" finds the three hooks (as TLJH loads plugins)."""
    manager = pluggy.PluginManager("tljh")
    manager.register(plugin)
    names = {impl.function.__name__ for hook in manager.hook.__dict__.values()
             if isinstance(hook, pluggy.HookCaller) for impl in hook.get_hookimpls()}  # fmt: skip
    assert names == {
        "tljh_extra_user_pip_packages",
        "tljh_new_user_create",
        "tljh_custom_jupyterhub_config",
    }


def test_perflab_goes_into_the_user_environment(
    plugin: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plugin.tljh_extra_user_pip_packages() == ["perflab"]
    monkeypatch.setenv("PERFLAB_PIP_SPEC", "git+https://example.org/perflab.git")
    assert plugin.tljh_extra_user_pip_packages() == ["git+https://example.org/perflab.git"]


def test_a_new_user_gets_a_room_copy_they_own(
    plugin: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook makes ~/perflab-curriculum in room mode (no solutions) and chowns it."""
    home = tmp_path / "home" / "jupyter-ada"
    home.mkdir(parents=True)
    me = os.getuid(), os.getgid()
    looked_up: list[str] = []

    def getpwnam(name: str) -> SimpleNamespace:
        looked_up.append(name)
        return SimpleNamespace(pw_dir=str(home), pw_uid=me[0], pw_gid=me[1])

    chowned: list[str] = []
    monkeypatch.setattr(plugin.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(plugin.shutil, "chown", lambda path, uid, gid: chowned.append(str(path)))
    plugin.tljh_new_user_create("ada")
    copy = home / "perflab-curriculum"
    assert looked_up == ["jupyter-ada"]
    assert (copy / "notebooks" / "00_welcome.ipynb").is_file()
    assert (copy / "exercises" / "01_percentiles.ipynb").is_file()
    assert not (copy / "solutions").exists()
    assert str(copy) in chowned and str(copy / "exercises" / "01_percentiles.ipynb") in chowned
    # A second call (TLJH re-runs hooks on upgrade) keeps what the learner changed.
    (copy / "exercises" / "01_percentiles.ipynb").write_text("mine")
    plugin.tljh_new_user_create("jupyter-ada")
    assert (copy / "exercises" / "01_percentiles.ipynb").read_text() == "mine"


def test_a_failed_copy_is_not_silent(
    plugin: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If perflab cannot make the copy, the hook raises (TLJH then reports the user's error)."""
    monkeypatch.setattr(
        plugin.pwd, "getpwnam", lambda name: SimpleNamespace(pw_dir="/", pw_uid=0, pw_gid=0)
    )
    monkeypatch.setattr(plugin, "USER_ENV", tmp_path / "no-such-env")
    with pytest.raises((FileNotFoundError, subprocess.CalledProcessError)):
        plugin.tljh_new_user_create("bo")


def test_servers_start_through_perflabs_wrapper(plugin: ModuleType) -> None:
    c = Config()
    plugin.tljh_custom_jupyterhub_config(c)
    assert c.Spawner.cmd[1:] == ["-m", "perflab.room", "singleuser"]
    assert c.Spawner.default_url == "/lab/tree/notebooks/00_welcome.ipynb"
    teacher = SimpleNamespace(user=SimpleNamespace(admin=True), environment={})
    learner = SimpleNamespace(user=SimpleNamespace(admin=False), environment={})
    c.Spawner.pre_spawn_hook(teacher)
    c.Spawner.pre_spawn_hook(learner)
    assert teacher.environment == {"PERFLAB_LAB_MODE": "self-paced"}
    assert learner.environment == {"PERFLAB_LAB_MODE": "room"}
