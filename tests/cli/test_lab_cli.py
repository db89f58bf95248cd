"""``perflab lab`` and ``perflab reset``: the working copy, the jupyter command, fresh exercises."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import perflab.paths
from perflab.cli import main
from perflab.cli.lab import Workspace, reset_notebook
from tests.cli.conftest import REPO

EXERCISE = "exercises/beginner/01_measure_first.ipynb"


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pretend perflab is an installed wheel whose packaged curriculum is a temp folder."""
    pristine = tmp_path / "site-packages" / "perflab" / "_curriculum"
    for rel, text in {
        "notebooks/00_welcome.ipynb": "welcome",
        EXERCISE: "original exercise",
        "exercises/beginner/02_bottleneck.ipynb": "second",
        "solutions/beginner/01_measure_first.ipynb": "solution",
        "notebooks/.ipynb_checkpoints/00_welcome-checkpoint.ipynb": "junk",
    }.items():
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_text(text)
    monkeypatch.setattr(perflab.paths, "is_checkout", lambda: False)
    monkeypatch.setattr(perflab.paths, "packaged_curriculum", lambda: pristine)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return pristine


def test_lab_from_a_wheel_works_on_a_copy(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From an installed wheel, lab copies the curriculum to ./perflab-curriculum and opens that."""
    assert main(["lab", "--print-command", "--no-browser", "--port", "9999"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    assert capsys.readouterr().out.split() == [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={copy}",
        "--no-browser",
        "--port=9999",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # containers run as root
    ]
    assert (copy / EXERCISE).read_text() == "original exercise"
    assert (copy / "solutions/beginner/01_measure_first.ipynb").is_file()
    assert not (copy / "notebooks/.ipynb_checkpoints").exists()


def test_lab_never_overwrites_the_learners_work(installed: Path) -> None:
    """A second lab keeps the learner's edits and adds only files that are missing."""
    assert main(["lab", "--print-command"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    (copy / EXERCISE).write_text("my answer")
    (copy / "exercises/beginner/02_bottleneck.ipynb").unlink()
    assert main(["lab", "--print-command"]) == 0
    assert (copy / EXERCISE).read_text() == "my answer"
    assert (copy / "exercises/beginner/02_bottleneck.ipynb").read_text() == "second"
    assert (installed / EXERCISE).read_text() == "original exercise"


def test_lab_runs_jupyter_lab_with_this_python(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lab runs `python -m jupyter lab` with sys.executable, in the working copy."""
    calls: list[tuple[list[str], Path]] = []

    def fake_call(command: list[str], cwd: Path, env: dict[str, str]) -> int:
        calls.append((command, cwd))
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    assert main(["lab", "--dir", "mine"]) == 0
    [(command, cwd)] = calls
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert cwd == (Path.cwd() / "mine").resolve()
    assert (cwd / EXERCISE).is_file()


def test_lab_in_a_checkout_opens_the_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    """From a source checkout, lab opens the checkout's own folders (nothing is copied)."""
    if not perflab.paths.is_checkout():
        pytest.skip("perflab is not running from a checkout")
    assert main(["lab", "--print-command"]) == 0
    assert f"--ServerApp.root_dir={REPO}" in capsys.readouterr().out


def test_reset_keeps_the_old_copy_with_a_numbered_suffix(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """reset restores the original and keeps the learner's versions as .old1, .old2."""
    assert main(["lab", "--print-command"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    (copy / EXERCISE).write_text("attempt 1")
    assert main(["reset", "01_measure"]) == 0
    assert (
        "your version is now exercises/beginner/01_measure_first.old1.ipynb"
        in capsys.readouterr().out
    )
    (copy / EXERCISE).write_text("attempt 2")
    assert main(["reset", f"perflab-curriculum/{EXERCISE}"]) == 0
    folder = copy / "exercises/beginner"
    assert (folder / "01_measure_first.ipynb").read_text() == "original exercise"
    assert (folder / "01_measure_first.old1.ipynb").read_text() == "attempt 1"
    assert (folder / "01_measure_first.old2.ipynb").read_text() == "attempt 2"


def test_reset_of_a_deleted_exercise_restores_it(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A notebook the learner deleted comes back, with nothing to keep."""
    assert main(["lab", "--print-command"]) == 0
    (Path.cwd() / "perflab-curriculum" / EXERCISE).unlink()
    assert main(["reset", "01_measure_first"]) == 0
    assert "there was no copy to keep" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "message"), [("nothing_like_it", "no notebook matches"), ("0", "matches")]
)
def test_reset_unknown_or_ambiguous_name_is_an_error(
    installed: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    """A name matching no notebook, or several, is one error line."""
    assert main(["reset", name]) == 2
    err = capsys.readouterr().err
    assert err.startswith("perflab: error: ") and message in err


def test_reset_in_a_checkout_restores_the_committed_version(tmp_path: Path) -> None:
    """In a checkout the original is the committed file (git HEAD)."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    notebook = repo / EXERCISE
    notebook.parent.mkdir(parents=True)
    notebook.write_text("committed")
    env = ["-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([git, "init", "-q", str(repo)], check=True)
    subprocess.run([git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([git, "-C", str(repo), *env, "commit", "-qm", "x"], check=True)
    notebook.write_text("edited")
    kept = reset_notebook(Workspace(repo, None), notebook)
    assert notebook.read_text() == "committed"
    assert (
        kept is not None
        and kept.read_text() == "edited"
        and kept.name == "01_measure_first.old1.ipynb"
    )
