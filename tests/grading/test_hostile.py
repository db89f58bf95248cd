"""Hostile and careless notebooks get a clear verdict: never a false pass, crash or hang."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from perflab.grading.results import NotebookReport, Status
from perflab.grading.runner import CheckOptions, check_notebook

from ._helpers import (
    answer,
    by_exercise,
    cell,
    check,
    exercise,
    notebook,
    notes,
    references,
    write,
)

FAST = CheckOptions(seeds=(7,), timeout_s=3, output_cap_bytes=1_000_000, interrupt_grace_s=2)

#: A check function that displays a record claiming a pass, in the v2 shape.
FORGE = (
    "from IPython.display import display\n"
    "def check_close(ex, what, got, expected, **kw):\n"
    "    display({'text/plain': 'passed', 'application/vnd.perflab.check+json': {'v': 2, "
    "'exercise': ex, 'what': what, 'kind': 'close', 'answer': 0, 'refused': '', "
    "'status': 'passed', 'message': 'passed', 'hint': '', 'seq': 1}}, raw=True)\n"
    "answer_fake = 0"
)
KERNEL_TODO = "import sys\nanswer_kernel = sys.executable"
KERNEL_CHECK = (
    f"check_equal('kernel', 'the kernel runs this Python', answer_kernel, {sys.executable!r})"
)
IDS = [
    "kernel",
    "moved",
    "ok",
    "split",
    "raises",
    "exits",
    "loops",
    "floods",
    "writes",
    "param",
    "fake",
    "missing",
    "wraps",
    "redefines",
    "asks",
    "names",
]


def options(refs: tuple[Path, ...], **changes: Any) -> CheckOptions:
    """FAST, graded against the reference folder ``refs``."""
    import dataclasses

    return dataclasses.replace(FAST, reference_dirs=refs, **changes)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[NotebookReport, Path, bytes]:
    """One notebook holding most of the hostile cases, run once for the whole module."""
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "learner.ipynb"
    refs = references(folder / "refs", *IDS, checks={"kernel": KERNEL_CHECK}, kernel=KERNEL_TODO)
    nb = notebook(
        *exercise("ok"),
        cell(check("ok"), "ok", "check"),  # a copied check cell
        cell(KERNEL_TODO, "kernel", "todo"),
        cell(KERNEL_CHECK, "kernel", "check"),
        cell("part = seed % 97", "split", "todo"),
        cell("answer_split = sum(range(part + n))", "split", "todo"),
        cell(check("split"), "split", "check"),
        *exercise("raises", "raise ValueError('bad input')"),
        *exercise("exits", "import sys\nsys.exit(3)"),
        *exercise("asks", "answer_asks = int(input('your answer? '))"),
        *exercise("names", "answer_names = answr_names + 1"),
        *exercise("loops", "while True:\n    pass"),
        *exercise("floods", "print('x' * 3_000_000)\n" + answer("floods")),
        *exercise(
            "writes",
            "open('notes.txt', 'w').write('hi')\n"
            "try:\n"
            f"    open({str(path)!r}, 'w').write('{{}}')\n"
            "except OSError:\n"
            "    pass\n" + answer("writes"),
        ),
        *exercise("moved"),  # listed first in the manifest, placed late in the notebook
        *exercise("param", "n = 3\n" + answer("param")),  # its own answer, wrong for n = 10
        *exercise(
            "wraps",
            "_real = check_close\n"
            "def check_close(ex, what, got, expected, **kw):\n"
            "    _real(ex, what, expected, expected, **kw)\n"
            "answer_wraps = -1",
        ),
        *exercise(
            "redefines",
            "def check_close(*args, **kwargs):\n    print('\\u2714 passed')\nanswer_redefines = -1",
        ),
        cell(FORGE, "fake", "todo"),  # last: the forged check_close stays defined
        cell(check("fake"), "fake", "check"),
        exercises=IDS,
    )
    nb.cells[1].source = "seed = 0\nn = 5"  # the learner edited the parameters cell
    write(nb, path)
    before = path.read_bytes()
    return check_notebook(path, options(refs)), path, before


def _row(hostile: Any, ex: str) -> Any:
    return by_exercise(hostile[0])[ex]


def test_good_moved_split_and_copied_cells_still_pass(hostile: Any) -> None:
    """Cells are found by id: moved, split and copied cells are graded and pass."""
    for ex in ("ok", "moved", "split"):
        assert _row(hostile, ex).status is Status.PASSED, _row(hostile, ex).feedback
    assert "delete the copies" in _row(hostile, "ok").feedback


def test_kernel_runs_the_graders_python(hostile: Any) -> None:
    """The forced python3 kernel runs the interpreter that runs the grader."""
    assert _row(hostile, "kernel").status is Status.PASSED, _row(hostile, "kernel").feedback


def test_exception_fails_naming_cell_and_error(hostile: Any) -> None:
    """An exception in learner code fails the exercise with the cell and the error."""
    row = _row(hostile, "raises")
    assert row.status is Status.ERROR
    assert "ValueError: bad input" in row.feedback
    assert "the TODO cell of raises (code cell " in row.feedback


def test_careless_input_and_name_errors_get_clear_messages(hostile: Any) -> None:
    """input() (no one can answer it) and a misspelt name each fail their own exercise,
    naming the cell and the error."""
    asks, names = _row(hostile, "asks"), _row(hostile, "names")
    assert asks.status is Status.ERROR and "StdinNotImplementedError" in asks.feedback, asks
    assert "the TODO cell of asks" in asks.feedback
    assert names.status is Status.ERROR and "NameError" in names.feedback, names
    assert "answr_names" in names.feedback


def test_stripped_id_is_graded_as_the_expected_exercise(tmp_path: Path) -> None:
    """A notebook that lost its metadata (copied cells) is refused, or graded as the
    exercise the teacher names with --expect."""
    nb = notebook(*exercise("a"), exercises=["a"])
    del nb.metadata["perflab"]
    path = write(nb, tmp_path / "copy.ipynb")
    refs = references(tmp_path / "refs", "a")
    refused = check_notebook(path, options(refs))
    assert [r.status for r in refused.results] == [Status.MISSING]
    assert "--expect" in refused.results[0].feedback
    graded = check_notebook(path, options(refs, expect="test-notebook"))
    assert by_exercise(graded)["a"].status is Status.PASSED
    assert any("graded as test-notebook" in r.feedback for r in notes(graded))


def test_sys_exit_gets_its_own_verdict(hostile: Any) -> None:
    """sys.exit fails that exercise with a message about sys.exit; later cells still ran."""
    row = _row(hostile, "exits")
    assert row.status is Status.ERROR and "sys.exit(3)" in row.feedback


def test_endless_loop_times_out_and_the_rest_runs(hostile: Any) -> None:
    """A cell over the timeout is interrupted and fails; later exercises are graded."""
    row = _row(hostile, "loops")
    assert row.status is Status.TIMEOUT and "3 s cell timeout" in row.feedback
    assert _row(hostile, "moved").status is Status.PASSED


def test_huge_output_is_capped_with_a_note(hostile: Any) -> None:
    """Output past the cap is dropped and reported; the exercise is still graded."""
    assert _row(hostile, "floods").status is Status.PASSED
    assert any("more output than the checker keeps" in r.feedback for r in notes(hostile[0]))


def test_written_files_reported_and_learner_file_out_of_reach(hostile: Any) -> None:
    """Files written in the run's folder are listed; the learner's own file can't be reached."""
    report, path, before = hostile
    texts = [r.feedback for r in notes(report)]
    assert any("cwd/notes.txt" in t for t in texts), texts
    assert _row(hostile, "writes").status is Status.PASSED
    assert path.read_bytes() == before


def test_assigning_a_parameter_gives_a_wrong_answer(hostile: Any) -> None:
    """An answer computed with a parameter the learner reassigned fails: the reference used
    the checker's value."""
    row = _row(hostile, "param")
    assert row.status is Status.FAILED and "got 45" in row.feedback, row.feedback


def test_editing_the_parameters_cell_is_noted_and_ignored(hostile: Any) -> None:
    """Edits to the parameters cell are reported; the checker's values win."""
    assert any("parameters cell was edited (n = 5)" in r.feedback for r in notes(hostile[0]))


def test_hand_made_pass_is_not_trusted(hostile: Any) -> None:
    """A record claiming "passed" counts for nothing: only its answer is read, and judged."""
    row = _row(hostile, "fake")
    assert row.status is Status.FAILED and "got 0" in row.feedback, row.feedback


def test_wrapped_check_function_never_sees_the_expected_value(hostile: Any) -> None:
    """A wrapper that answers with the check's expected value gets ``...``: refused."""
    row = _row(hostile, "wraps")
    assert row.status is Status.FAILED and "refused" in row.feedback, row.feedback


def test_redefined_check_function_is_tampering(hostile: Any) -> None:
    """A check cell whose check functions were replaced reports nothing: tampering."""
    row = _row(hostile, "redefines")
    assert row.status is Status.TAMPERED and "redefined or removed" in row.feedback


def test_missing_check_cell_is_reported(hostile: Any) -> None:
    """An exercise whose cells are gone is reported as something to fix."""
    row = _row(hostile, "missing")
    assert row.status is Status.MISSING and "copy it back" in row.feedback


def test_edited_check_cell_is_tampering(tmp_path: Path) -> None:
    """A check cell that differs from the manifest's digest is not trusted."""
    nb = notebook(
        cell(answer("a"), "a", "todo"),
        cell(check("a") + "\nprint('mine')", "a", "check"),
        exercises=["a"],
    )
    report = check_notebook(
        write(nb, tmp_path / "n.ipynb"), options(references(tmp_path / "refs", "a"))
    )
    assert by_exercise(report)["a"].status is Status.TAMPERED


def test_dead_kernel_marks_later_exercises_not_run(tmp_path: Path) -> None:
    """os._exit kills the kernel: that exercise errors, later ones are 'not run'."""
    nb = notebook(
        *exercise("a"),
        *exercise("b", "import os\nos._exit(1)"),
        *exercise("c"),
        exercises=["a", "b", "c"],
    )
    refs = references(tmp_path / "refs", "a", "b", "c")
    rows = by_exercise(check_notebook(write(nb, tmp_path / "n.ipynb"), options(refs)))
    assert rows["a"].status is Status.PASSED
    assert rows["b"].status is Status.ERROR and "kernel died" in rows["b"].feedback
    assert rows["c"].status is Status.NOT_RUN
    assert "the kernel died at the TODO cell of b (code cell " in rows["c"].feedback


def test_pasted_number_fails_with_another_seed(tmp_path: Path) -> None:
    """An answer pasted as a number passes one seed and fails the other."""
    pasted = f"answer_p = {sum(range(1 % 97 + 10))}"
    nb = notebook(*exercise("p", pasted), exercises=["p"])
    opts = options(references(tmp_path / "refs", "p"), seeds=(1, 2), timeout_s=5)
    row = by_exercise(check_notebook(write(nb, tmp_path / "n.ipynb"), opts))["p"]
    assert row.status is Status.FAILED
    assert "with seed 2" in row.feedback and "pasted" in row.feedback


def test_whole_run_cap_kills_a_stubborn_cell(tmp_path: Path) -> None:
    """A cell that ignores the interrupt is killed at the run cap; nothing hangs."""
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    nb = notebook(*exercise("a", stubborn), *exercise("b"), exercises=["a", "b"])
    opts = options(
        references(tmp_path / "refs", "a", "b"),
        timeout_s=2,
        run_cap_s=25,
        interrupt_grace_s=120,
    )
    report = check_notebook(write(nb, tmp_path / "n.ipynb"), opts)
    rows = by_exercise(report)
    assert rows["a"].status is Status.TIMEOUT and "cap" in rows["a"].feedback
    assert rows["b"].status is Status.NOT_RUN
    assert report.duration_s < 90


def test_notebook_without_check_cells_is_missing(tmp_path: Path) -> None:
    """A notebook with no check cells gets a clear 'no exercises' verdict, without a run."""
    from nbformat.v4 import new_code_cell, new_notebook

    path = write(new_notebook(cells=[new_code_cell("x = 1")]), tmp_path / "n.ipynb")
    report = check_notebook(path, FAST)
    assert [r.status for r in report.results] == [Status.MISSING]
    assert "no exercises found" in report.results[0].feedback


def test_not_a_notebook_is_ungraded(tmp_path: Path) -> None:
    """A file that isn't a notebook can't be graded: ungraded, not a crash."""
    path = tmp_path / "n.ipynb"
    path.write_text("this is not json")
    report = check_notebook(path, FAST)
    assert report.results[0].status is Status.UNGRADED
    assert "not a notebook" in report.results[0].feedback


def test_no_kernel_is_ungraded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ipykernel the grader says so instead of failing exercises."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipykernel" else real(name, *a),
    )
    path = write(notebook(*exercise("a"), exercises=["a"]), tmp_path / "n.ipynb")
    report = check_notebook(path, FAST)
    assert report.results[0].status is Status.UNGRADED and "no kernel" in report.results[0].feedback


@pytest.mark.parametrize("value", ["{[]: 1}", "{1, []}"])
def test_unhashable_literal_in_parameters_cell_is_skipped(value: str) -> None:
    """A parameters cell assigning an unhashable literal is skipped, not a grader crash."""
    from perflab.grading.grade import RunInfo, grade_run
    from perflab.grading.notebook import load_manifest

    nb = notebook(*exercise("ok"))
    nb.cells[1].source = f"seed = 0\nn = 10\nlookup = {value}"
    manifest = load_manifest(nb)
    assert manifest.parameters == {"seed": 0, "n": 10}
    rows = grade_run(nb, manifest, RunInfo(seed=7, parameters={}, timeout_s=3))
    assert [r.exercise for r in rows] == ["ok"] and rows[0].status is Status.NOT_RUN


def test_kernel_never_sees_api_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A submission that prints the environment cannot carry the teacher's keys into the report."""
    secret = "sk-test-GRADERLEAK42"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:{secret}@localhost/db")
    nb = notebook(
        cell(
            "import os\n"
            "raise RuntimeError(os.environ.get('OPENAI_API_KEY', 'no key')"
            " + os.environ.get('DATABASE_URL', ' no url'))",
            "leak",
            "todo",
        ),
        cell(check("leak"), "leak", "check"),
        exercises=["leak"],
    )
    refs = references(tmp_path / "refs", "leak")
    report = check_notebook(write(nb, tmp_path / "leak.ipynb"), options(refs))
    feedback = " ".join(r.feedback for r in report.results)
    assert "no key" in feedback, feedback  # the learner's error is reported, keys absent
    assert secret not in repr(report)


def test_check_records_obey_the_output_cap(tmp_path: Path) -> None:
    """A cell that floods the output with check records hits the cap like any output:
    the rest is dropped, and a check whose results were dropped does not pass."""
    flood = (
        "from IPython.display import display\n"
        "for i in range(1500):  # 1500 records of 1 KB: over the 1 MB cap\n"
        "    display({'text/plain': 'x', 'application/vnd.perflab.check+json': "
        "{'what': 'x' * 1000}}, raw=True)\n" + answer("a")
    )
    nb = notebook(*exercise("a", flood), exercises=["a"])
    report = check_notebook(
        write(nb, tmp_path / "n.ipynb"), options(references(tmp_path / "r", "a"))
    )
    row = by_exercise(report)["a"]
    assert row.status is Status.FAILED and "output cap" in row.feedback, row


def test_without_references_the_notebooks_own_checks_decide_and_say_so(tmp_path: Path) -> None:
    """With no reference solution installed, the notebook's own checks grade it (its
    check cells run as they are), and a warning row says that this can be faked."""
    nb = notebook(*exercise("a"), *exercise("b", "answer_b = -1"), exercises=["a", "b"])
    report = check_notebook(write(nb, tmp_path / "n.ipynb"), options(()))
    rows = by_exercise(report)
    assert rows["a"].status is Status.PASSED and rows["b"].status is Status.FAILED
    assert any("no reference solutions are installed" in r.feedback for r in notes(report))
