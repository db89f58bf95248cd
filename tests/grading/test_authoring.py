"""Authoring: exercises generated from solutions, and kept in step with them."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from perflab.grading.authoring import make_exercise, out_of_sync, sync
from perflab.grading.notebook import cell_tag, load_manifest

from ._helpers import cell


def _solution() -> nbformat.NotebookNode:
    nb = new_notebook(
        cells=[
            cell("seed = 0", role="parameters"),
            cell(
                "x = 1\n### BEGIN SOLUTION\ny = x + seed\n### END SOLUTION\nprint(y)", "e1", "todo"
            ),
            cell(
                "def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION", "e2", "todo"
            ),
            cell(
                "### BEGIN SOLUTION\n#> guess = None  # your guess\nguess = 0.5\n### END SOLUTION",
                "e1",
                "todo",
            ),
            cell("check_close('e1', 'y', y, seed + 1)", "e1", "check"),
            new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"),
        ]
    )
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells[1].execution_count = 3
    nb.metadata["perflab"] = {"id": "demo"}
    return nb


def test_solution_regions_become_todos_that_raise() -> None:
    """The marked part is replaced by a TODO raising NotImplementedError, indented alike."""
    ex = make_exercise(_solution())
    assert ex.cells[1].source == (
        "x = 1\n# TODO: your code here\nraise NotImplementedError("
        '"exercise e1: replace this line with your code")\nprint(y)'
    )
    assert "    raise NotImplementedError" in ex.cells[2].source
    assert "return 2" not in ex.cells[2].source


def test_prediction_lines_replace_the_region() -> None:
    """``#>`` lines become the exercise's code, so a prediction prompt doesn't raise."""
    assert make_exercise(_solution()).cells[3].source == "guess = None  # your guess"


def test_markdown_answers_are_removed() -> None:
    """A marked answer in markdown becomes a placeholder."""
    assert make_exercise(_solution()).cells[5].source == "Why?\n*Your answer here.*"


def test_outputs_stripped_and_manifest_stored() -> None:
    """Outputs and counts go; the manifest (ids, parameters, check digests) is stored."""
    ex = make_exercise(_solution())
    assert ex.cells[1].outputs == [] and ex.cells[1].execution_count is None
    manifest = load_manifest(ex)
    assert manifest.exercises == ("e1",) and manifest.parameters == {"seed": 0}
    assert cell_tag(ex.cells[4]) is not None


def test_begin_without_end_is_refused() -> None:
    """An unterminated solution region is an authoring error."""
    nb = new_notebook(cells=[cell("### BEGIN SOLUTION\nx = 1")])
    with pytest.raises(ValueError, match="END SOLUTION"):
        make_exercise(nb)


def test_sync_writes_then_reports_in_step(tmp_path: Path) -> None:
    """sync generates missing exercises; afterwards nothing is out of step until an edit."""
    sols, exs = tmp_path / "solutions", tmp_path / "exercises"
    sols.mkdir()
    nbformat.write(_solution(), sols / "demo.ipynb")
    assert out_of_sync(sols, exs) == [exs / "demo.ipynb"]
    assert sync(sols, exs) == [exs / "demo.ipynb"]
    assert out_of_sync(sols, exs) == []
    (exs / "demo.ipynb").write_text(
        (exs / "demo.ipynb").read_text().replace("seed = 0", "seed = 1")
    )
    assert out_of_sync(sols, exs) == [exs / "demo.ipynb"]


def test_shipped_exercises_are_in_step_with_solutions(repo: Path) -> None:
    """exercises/ is exactly what solutions/ generates (run the authoring tool if not)."""
    stale = out_of_sync(repo / "solutions", repo / "exercises")
    assert stale == [], f"out of step: {stale}; run python -m perflab.grading.authoring"


def test_shipped_solutions_are_saved_executed(repo: Path) -> None:
    """Each solution is stored with the outputs of its check cells."""
    for path in sorted((repo / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        checks = [c for c in nb.cells if (t := cell_tag(c)) is not None and t.role == "check"]
        assert checks and all(c.outputs for c in checks), path
