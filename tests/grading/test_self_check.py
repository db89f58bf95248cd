"""check_my_work: an exercise checks itself from its last cell (issue 11).

Each message is tested beside a case where it must not appear: the grader's mark, the
path found from a kernel's folder, the unsaved-code warning, the "saved at" line and the
suggestion for a path that does not exist.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from perflab.grading import self_check
from perflab.grading.self_check import (
    check_my_work,
    find_notebook,
    grading_run,
    not_found_message,
    saved_line,
    suggestions,
    unsaved_runs,
)

from ._helpers import cell, exercise, notebook, references, write

ROOT = Path(__file__).resolve().parents[2]
WORKER = ["/usr/bin/python3", "-m", "perflab.grading._worker", "/run/x/spec.json"]
KERNEL = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "k.json"]


def _generated_cell(name: str = "03_cache_economics.ipynb") -> str:
    """The shipped exercise's last cell, as the course generator wrote it."""
    nb = json.loads((ROOT / "exercises" / name).read_text(encoding="utf-8"))
    last = nb["cells"][-1]
    assert last["metadata"]["perflab"]["generated"] == "check"
    return "".join(last["source"])


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A learner's course folder: notebooks/, exercises/ with one exercise, solutions/."""
    root = tmp_path / "course"
    for folder in ("notebooks", "exercises", "solutions"):
        (root / folder).mkdir(parents=True)
    write(notebook(), root / "exercises" / "07_batching.ipynb")
    write(notebook(), root / "solutions" / "07_batching.ipynb")
    return root


# --- the grader's mark ------------------------------------------------------------------


def test_the_grader_is_recognised_by_its_variables_or_its_worker() -> None:
    """Either mark alone is enough; a kernel started by anything else is not graded."""
    assert "PERFLAB_CHECK_ROLE" in grading_run({"PERFLAB_CHECK_ROLE": "learner"}, [KERNEL])
    assert "worker" in grading_run({}, [KERNEL, WORKER])  # variables deleted by the notebook
    assert grading_run({"PATH": "/bin"}, [KERNEL, ["/usr/bin/python3", "-m", "pytest"]]) == ""


def test_outside_the_grader_it_does_not_skip(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Here (pytest, no grader variables) the call goes on to look for the notebook."""
    for name in self_check.GRADER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(course / "exercises")
    check_my_work("nope.ipynb")
    out = capsys.readouterr().out
    assert "skipped" not in out and "no exercises/nope.ipynb" in out


def test_under_the_grader_it_does_nothing(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the grader's variable set, even an existing notebook is not checked again."""
    monkeypatch.setenv("PERFLAB_CHECK_ROLE", "learner")
    monkeypatch.chdir(course / "exercises")
    monkeypatch.setattr(self_check, "_stream", lambda *a: pytest.fail("started a check"))
    check_my_work("07_batching.ipynb")
    assert capsys.readouterr().out.startswith("check_my_work: skipped: this notebook is being")


_CAPTURE = """\
import contextlib, io, os
from perflab.grading import check_my_work

def said(name):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        check_my_work(name)
    return buffer.getvalue()

by_variables = said("ex.ipynb")
for name in ("PERFLAB_CHECK_ROLE", "PERFLAB_CHECK_ISOLATION"):
    os.environ.pop(name, None)  # a notebook can shed the variables, not its parent
by_parent = said("ex.ipynb")"""
_CHECK = """\
check_true("a", "skipped with the variables", "skipped" in by_variables, got=by_variables)
check_true("a", "skipped without them", "skipped" in by_parent, got=by_parent)"""


@pytest.mark.notebooks
def test_a_real_check_of_a_notebook_with_the_cell_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`perflab check` runs the generated cell and the call inside the graded kernel skips,
    by its variables and, once the notebook deleted them, by its parent process."""
    from perflab.cli.check import handler, register

    extra = "from perflab.grading import check_true"
    nb = notebook(
        cell(extra),
        cell(_CAPTURE, "a", "todo"),
        cell(_CHECK, "a", "check"),
        new_code_cell(_generated_cell()),
        exercises=["a"],
        digests=False,
    )
    path = write(nb, tmp_path / "ex.ipynb")
    (refs,) = references(
        tmp_path / "refs", "a", checks={"a": _CHECK}, a=_CAPTURE
    )  # the reference solution has the same cells
    ref = nbformat.read(refs / "test-notebook.ipynb", as_version=4)
    ref.cells.insert(2, cell(extra))
    ref.cells.append(new_code_cell(_generated_cell()))
    nbformat.write(ref, refs / "test-notebook.ipynb")
    import argparse

    parser = argparse.ArgumentParser(prog="perflab")
    register(parser.add_subparsers())
    argv = ["check", str(path), "--seed", "5", "--timeout", "60", "--references", str(refs)]
    started = time.monotonic()
    code = handler(parser.parse_args(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "skipped with the variables" in out and "skipped without them" in out
    assert time.monotonic() - started < 300


# --- finding the notebook from the kernel's folder -------------------------------------


def test_the_notebook_is_found_from_the_kernels_folder_and_the_course_folder(
    course: Path,
) -> None:
    """A kernel's folder is the notebook's: its own name works, and so does the course path."""
    exercise = course / "exercises" / "07_batching.ipynb"
    assert find_notebook("07_batching.ipynb", course / "exercises") == exercise
    assert find_notebook("exercises/07_batching.ipynb", course / "exercises") == exercise
    assert find_notebook("exercises/07_batching.ipynb", course) == exercise
    assert find_notebook("07_batching.ipynb", course / "solutions") == (
        course / "solutions" / "07_batching.ipynb"
    )
    assert find_notebook("07_batching.ipynb", course) is None  # not in the course folder
    assert find_notebook("08_pooling.ipynb", course / "exercises") is None


_FIRST = "import os\nos.environ['PATH'] = '/nowhere'  # whatever PATH is, the check runs"


def _kernel_run(folder: Path, cells: list[str]) -> list[str]:
    """Execute code cells in a real kernel whose folder is ``folder``; their text output."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[new_code_cell(s) for s in cells])
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]


@pytest.mark.notebooks
def test_from_a_kernel_it_checks_the_saved_file_and_warns_about_unsaved_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a kernel in exercises/ with no perflab on PATH: the report streams, with the
    "saved at" line; no warning while every run is saved, a warning after an unsaved one."""
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    for name in self_check.GRADER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (refs,) = references(tmp_path / "refs", "a")
    folder = tmp_path / "course" / "exercises"
    call = f'check_my_work("mine.ipynb", "--seed", "5", "--references", r"{refs}")'
    mine = notebook(
        cell(_FIRST),
        cell("from perflab.grading import check_my_work"),
        *exercise("a"),
        cell(call),  # the notebook's last cell, saved like the others
        exercises=["a"],
    )
    write(mine, folder / "mine.ipynb")
    (tmp_path / "course" / "notebooks").mkdir()
    saved = [c.source for c in mine.cells]
    outs = _kernel_run(folder, [*saved, "answer_a = 0  # edited, run, not saved", call])
    clean, dirty = outs[len(saved) - 1], outs[-1]
    stamp = datetime.fromtimestamp((folder / "mine.ipynb").stat().st_mtime).strftime("%H:%M")
    assert f"graded mine.ipynb as saved at {stamp}" in clean
    assert "All checks passed: 1 exercise" in clean  # the grader's report came through
    assert "you ran code" not in clean
    assert "you ran code that is not saved yet (1 cell, e.g. `answer_a = 0" in dirty
    assert "reminder:" in dirty


# --- unsaved code ------------------------------------------------------------------------

SAVED = ["import math", "x = 1", "check_my_work('e.ipynb')"]


def test_no_warning_when_every_run_is_saved() -> None:
    """Runs of the saved cells, in any order and any number of times, are all saved."""
    assert (
        unsaved_runs(["import math", "x = 1  ", "x = 1", "check_my_work('e.ipynb')"], SAVED) == []
    )


def test_an_edited_cell_run_but_not_saved_is_reported() -> None:
    """The learner's edit of ``x = 1`` was run; the file still has ``x = 1``."""
    assert unsaved_runs(["import math", "x = 1", "x = 2"], SAVED) == ["x = 2"]


def test_a_version_followed_by_the_saved_one_is_superseded() -> None:
    """A wrong try, then the saved fix run after it: nothing unsaved."""
    assert unsaved_runs(["import math", "x = 2", "x = 1"], SAVED) == []
    assert unsaved_runs(["x = 2", "x = 3"], SAVED) == ["x = 3"]  # only the latest version


def test_a_long_cell_is_matched_line_by_line() -> None:
    """One line edited in a twelve-line cell is a version of that cell, not a new one."""
    long = "\n".join(f"v{i} = {i} * 2" for i in range(12))
    edited = long.replace("v5 = 5 * 2", "v5 = 5 * 3")
    assert unsaved_runs([edited, long], [*SAVED, long]) == []
    assert unsaved_runs([long, edited], [*SAVED, long]) == [edited]


def test_a_new_cell_run_but_not_saved_is_reported() -> None:
    """Code like no saved cell (a cell added and run, not saved) counts on its own."""
    assert unsaved_runs(["import math", "print(sorted({3, 1, 2}))"], SAVED) == [
        "print(sorted({3, 1, 2}))"
    ]


# --- the saved-at line -------------------------------------------------------------------


def test_the_saved_at_line_names_the_time_and_how_long_ago(tmp_path: Path) -> None:
    """The file's own time is shown; another time would read differently."""
    path = write(notebook(), tmp_path / "ex.ipynb")
    at = datetime(2026, 3, 4, 14, 3).timestamp()
    os.utime(path, (at, at))
    assert saved_line(path, now=at + 125).startswith(
        f"graded {path} as saved at 14:03, 2 minutes ago"
    )
    assert "as saved at 14:03, just now" in saved_line(path, now=at + 3)
    assert "2026-03-04 14:03, 1 day ago" in saved_line(path, now=at + 86400 + 60)
    assert "14:04" not in saved_line(path, now=at + 125)


@pytest.mark.notebooks
def test_perflab_check_prints_which_saved_version_it_grades(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI prints the line before its table (to stderr with --json, so JSON stays JSON)."""
    from tests.grading.test_cli import _cli

    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path / "data"))
    (refs,) = references(tmp_path / "refs", "a")
    path = write(notebook(*exercise("a"), exercises=["a"]), tmp_path / "ex.ipynb")
    assert _cli([str(path), "--seed", "5", "--references", str(refs)]) == 0
    assert capsys.readouterr().out.startswith(f"graded {path} as saved at ")
    assert _cli([str(path), "--seed", "5", "--references", str(refs), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit_code"] == 0 and "as saved at" in captured.err


# --- a path that does not exist ----------------------------------------------------------


def test_a_course_path_typed_inside_exercises_suggests_the_name(course: Path) -> None:
    """The issue's case: `perflab check exercises/X` from a cell, whose folder is exercises/."""
    message = not_found_message("exercises/07_batching.ipynb", course / "exercises")
    assert message.startswith("no exercises/exercises/07_batching.ipynb in the course folder")
    assert "did you mean 07_batching.ipynb (you are in exercises/)?" in message


def test_a_typo_suggests_the_near_exercise_before_its_solution(course: Path) -> None:
    """A near name finds the exercise; the solution of the same name comes after it."""
    assert suggestions("exercises/07_batchng.ipynb", course) == [
        "exercises/07_batching.ipynb",
        "solutions/07_batching.ipynb",
    ]
    assert "did you mean exercises/07_batching.ipynb (you are in the course folder)?" in (
        not_found_message("exercises/07_batchng.ipynb", course)
    )


def test_nothing_alike_suggests_nothing(course: Path, tmp_path: Path) -> None:
    """No near name: no 'did you mean', but where the exercises are; outside a course, the
    path looked for."""
    message = not_found_message("zzz.ipynb", course / "exercises")
    assert "did you mean" not in message and str(course / "exercises") in message
    assert not_found_message("zzz.ipynb", tmp_path) == f"no file {tmp_path / 'zzz.ipynb'}"


def test_perflab_check_of_a_missing_path_exits_2_with_the_suggestion(
    course: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command says what it looked for instead of 'not a notebook: FileNotFoundError'."""
    from tests.grading.test_cli import _cli

    monkeypatch.chdir(course / "exercises")
    assert _cli(["exercises/07_batching.ipynb"]) == 2
    err = capsys.readouterr().err
    assert "FileNotFoundError" not in err
    assert "did you mean 07_batching.ipynb (you are in exercises/)?" in err


def test_every_exercise_and_solution_ends_with_the_cell_that_checks_itself() -> None:
    """The generated last cell names the notebook it is in."""
    for folder in ("exercises", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            nb: Any = json.loads(path.read_text(encoding="utf-8"))
            last = nb["cells"][-1]
            assert last["cell_type"] == "code", path
            assert f'check_my_work("{path.name}")' in "".join(last["source"]), path


def test_a_worker_forked_from_the_fork_server_counts_as_the_grader() -> None:
    """A kernel whose parent came from kernel_pool's fork server is under the grader too."""
    from perflab.grading.self_check import grading_run

    server = ["python", "-c", "from perflab.grading.kernel_pool import _main; _main()"]
    assert grading_run(environ={}, commands=[["bash"], server]) != ""
    assert grading_run(environ={}, commands=[["python", "-c", "print(1)"]]) == ""
