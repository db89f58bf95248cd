"""``perflab lab`` and ``perflab reset``: the working copy, the jupyter command, fresh exercises."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import perflab.paths
from perflab.cli import main
from perflab.cli.lab import Workspace, reset_notebook
from tests.cli.conftest import REPO

EXERCISE = "exercises/beginner/01_measure_first.ipynb"
SOLUTION = "solutions/beginner/01_measure_first.ipynb"


def notebook(text: str) -> str:
    """A one-cell executed notebook whose cell prints ``text`` (its output is saved)."""
    nb = nbformat.v4.new_notebook(metadata={"perflab": {"course": {"id": text}}})
    cell = nbformat.v4.new_code_cell(f"print({text!r})", metadata={"tags": ["keep-me"]})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{text}\n")]
    cell.execution_count = 7
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {text}"), cell]
    return nbformat.writes(nb)


def source_of(path: Path) -> str:
    """The code cell's source, which says which original a notebook came from."""
    return str(nbformat.read(path, as_version=4).cells[1].source)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pretend perflab is an installed wheel whose packaged curriculum is a temp folder."""
    pristine = tmp_path / "site-packages" / "perflab" / "_curriculum"
    for rel, text in {
        "notebooks/00_welcome.ipynb": "welcome",
        EXERCISE: "original exercise",
        "exercises/beginner/02_bottleneck.ipynb": "second",
        SOLUTION: "solution",
        "notebooks/.ipynb_checkpoints/00_welcome-checkpoint.ipynb": "junk",
    }.items():
        (pristine / rel).parent.mkdir(parents=True, exist_ok=True)
        (pristine / rel).write_text(notebook(text))
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
        "--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb",
        "--no-browser",
        "--port=9999",
        *(["--allow-root"] if os.geteuid() == 0 else []),  # containers run as root
    ]
    assert source_of(copy / EXERCISE) == "print('original exercise')"
    assert (copy / SOLUTION).is_file()
    assert not (copy / "notebooks/.ipynb_checkpoints").exists()


def test_the_copy_has_outputs_cleared_and_metadata_kept(installed: Path) -> None:
    """No lesson opens with its numbers printed; tags and the outline metadata survive."""
    assert main(["lab", "--copy-only"]) == 0
    for rel in ("notebooks/00_welcome.ipynb", EXERCISE, SOLUTION):
        copied = nbformat.read(Path.cwd() / "perflab-curriculum" / rel, as_version=4)
        original = nbformat.read(installed / rel, as_version=4)
        assert original.cells[1].outputs and original.cells[1].execution_count == 7
        assert copied.cells[1].outputs == [] and copied.cells[1].execution_count is None
        assert copied.cells[1].metadata == {"tags": ["keep-me"]}
        assert copied.metadata == original.metadata
        assert [c.source for c in copied.cells] == [c.source for c in original.cells]


def test_room_mode_copies_no_solutions_and_stays_a_room_copy(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--room leaves solutions/ out; a later plain run does not add them to that copy."""
    assert main(["lab", "--room", "--copy-only"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    assert (copy / EXERCISE).is_file() and (copy / "notebooks/00_welcome.ipynb").is_file()
    assert not (copy / "solutions").exists()
    assert "solutions" not in capsys.readouterr().err
    assert main(["lab", "--copy-only"]) == 0
    assert not (copy / "solutions").exists()
    assert "made in room mode, and stays so" in capsys.readouterr().err


def test_lab_never_overwrites_the_learners_work(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second lab keeps the learner's edits, adds only missing files, and says so."""
    assert main(["lab", "--print-command"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    (copy / EXERCISE).write_text("my answer")
    (copy / "exercises/beginner/02_bottleneck.ipynb").unlink()
    capsys.readouterr()
    assert main(["lab", "--copy-only"]) == 0
    assert (copy / EXERCISE).read_text() == "my answer"
    assert source_of(copy / "exercises/beginner/02_bottleneck.ipynb") == "print('second')"
    assert source_of(installed / EXERCISE) == "print('original exercise')"
    err = capsys.readouterr().err
    assert "copied 1 files" in err and "kept 3 files you already had" in err


def test_a_copy_that_fails_halfway_leaves_no_partial_file(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while copying leaves whole files or none, and the next run completes the copy."""
    import perflab.curriculum

    real = perflab.curriculum.cleared_notebook
    calls = {"n": 0}

    def failing(raw: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(raw)

    monkeypatch.setattr(perflab.curriculum, "cleared_notebook", failing)
    copy = Path.cwd() / "perflab-curriculum"
    with pytest.raises(OSError, match="disk full"):
        main(["lab", "--copy-only"])
    for nb in copy.rglob("*"):
        assert not nb.name.endswith(".tmp")
        if nb.suffix == ".ipynb":
            nbformat.read(nb, as_version=4)  # whole, readable
    monkeypatch.setattr(perflab.curriculum, "cleared_notebook", real)
    assert main(["lab", "--copy-only"]) == 0
    assert len(list(copy.rglob("*.ipynb"))) == 4


def test_lab_runs_jupyter_lab_with_this_python_and_perflab_on_path(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lab runs `python -m jupyter lab` in the copy, its scripts folder first on PATH."""
    calls: list[tuple[list[str], Path, dict[str, str]]] = []

    def fake_call(command: list[str], cwd: Path, env: dict[str, str]) -> int:
        calls.append((command, cwd, env))
        return 0

    from perflab.cli import lab

    monkeypatch.setattr(lab, "launch", fake_call)  # the real one becomes JupyterLab (exec)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert main(["lab", "--dir", "mine"]) == 0
    [(command, cwd, env)] = calls
    assert command[:4] == [sys.executable, "-m", "jupyter", "lab"]
    assert cwd == (Path.cwd() / "mine").resolve()
    assert (cwd / EXERCISE).is_file()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["PATH"].endswith("/usr/bin:/bin")
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(cwd / ".perflab" / "jupyter")
    config = json.loads((cwd / ".perflab/jupyter/jupyter_server_config.json").read_text())
    assert config["LabApp"]["check_for_updates_class"] == "jupyterlab.NeverCheckForUpdate"
    page = json.loads((cwd / ".perflab/jupyter/labconfig/page_config.json").read_text())
    assert page["disabledExtensions"] == {"@jupyterlab/apputils-extension:announcements": True}
    if shutil.which("bash"):
        shell = config["ServerApp"]["terminado_settings"]["shell_command"]
        assert shell[1:] == ["--rcfile", str(cwd / ".perflab" / "bashrc"), "-i"]


def test_lab_started_inside_a_copy_uses_that_copy(
    installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`perflab lab` from a terminal inside the copy does not make a copy inside the copy."""
    assert main(["lab", "--copy-only"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    monkeypatch.chdir(copy / "exercises")
    capsys.readouterr()
    assert main(["lab", "--copy-only"]) == 0
    assert capsys.readouterr().out.strip() == str(copy)
    assert not (copy / "exercises" / "perflab-curriculum").exists()


def test_lab_in_a_checkout_works_on_a_copy_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """From a checkout, lab copies too: the repository's executed notebooks stay untouched."""
    if not perflab.paths.is_checkout():
        pytest.skip("perflab is not running from a checkout")
    monkeypatch.chdir(tmp_path)
    assert main(["lab", "--print-command", "--room"]) == 0
    copy = tmp_path / "perflab-curriculum"
    assert f"--ServerApp.root_dir={copy}" in capsys.readouterr().out
    lessons = sorted(p.relative_to(REPO) for p in (REPO / "notebooks").rglob("*.ipynb"))
    assert lessons and all((copy / rel).is_file() for rel in lessons)
    if (REPO / "docs/glossary.md").is_file():  # lessons link to it: ../../docs/glossary.md
        assert (copy / "docs/glossary.md").read_bytes() == (REPO / "docs/glossary.md").read_bytes()
    welcome = nbformat.read(copy / "notebooks/00_welcome.ipynb", as_version=4)
    assert all(c.get("outputs", []) == [] for c in welcome.cells)
    assert not (copy / "solutions").exists()


def test_lab_dir_naming_the_checkout_works_in_place(capsys: pytest.CaptureFixture[str]) -> None:
    """`--dir` naming the checkout itself opens the checkout (for authors), copying nothing."""
    if not perflab.paths.is_checkout():
        pytest.skip("perflab is not running from a checkout")
    assert main(["lab", "--print-command", "--dir", str(REPO)]) == 0
    captured = capsys.readouterr()
    assert f"--ServerApp.root_dir={REPO}" in captured.out
    assert "working in the checkout itself" in captured.err


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
    assert source_of(folder / "01_measure_first.ipynb") == "print('original exercise')"
    fresh = nbformat.read(folder / "01_measure_first.ipynb", as_version=4)
    assert fresh.cells[1].outputs == []  # as the copy had it
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


def test_exercises_picks_which_exercises_a_copy_gets(installed: Path) -> None:
    """--exercises 01 copies that exercise (and its solution) and every lesson, nothing else."""
    assert main(["lab", "--copy-only", "--exercises", "01"]) == 0
    copy = Path.cwd() / "perflab-curriculum"
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*.ipynb")) == [
        EXERCISE,
        "notebooks/00_welcome.ipynb",
        SOLUTION,
    ]


def test_exercises_naming_no_exercise_is_an_error_listing_them(
    installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A name that matches no exercise is refused with the list of names that exist."""
    assert main(["lab", "--copy-only", "--exercises", "01,99"]) == 2
    err = capsys.readouterr().err
    assert "no exercise matches '99'" in err and "01_measure_first, 02_bottleneck" in err
    assert not (Path.cwd() / "perflab-curriculum").exists()
