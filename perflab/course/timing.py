"""How long a notebook takes: the rule that turns its contents into a floor in minutes.

The rule (docs/course.md states it for learners and authors):

* **prose**: 1 minute per 120 words of markdown. That is half a typical adult reading
  speed, because technical text is read, reread and checked against the output;
* **code**: 10 seconds per non-blank line, to read it and see what it does;
* **outputs**: 30 seconds per output (a printed block, a table, a widget), and 60 seconds
  per plot, to read what it shows;
* **run time**: the seconds the cells took when the notebook was last executed, as far as
  the notebook recorded them (cell ``execution`` timestamps; 0 when none are stored);
* **exercises** add 5 minutes per cell the learner must fill in (a ``todo`` cell), and
  1 minute to run ``perflab check``.

The floor is the sum, rounded up to a whole minute. Generated header and footer cells are
not counted: they restate the metadata. A stated time may be longer than the floor (a
learner pauses, experiments, rereads), never shorter; tests/course fail when it is.

A lesson may end with a deep dive a learner can skip on a first pass: a markdown cell whose
first line is a heading starting with ``Going further (optional)``. That cell and every cell
after it are the **optional** part, counted on their own (``optional_floor``) and left out of
the teaching floor. No lesson states more than ``MAX_TEACHING_MIN`` minutes of teaching.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.course.outline import Outline

__all__ = [
    "MAX_TEACHING_MIN",
    "MINUTES_PER_TODO",
    "OPTIONAL_HEADING",
    "SECONDS_PER_CODE_LINE",
    "SECONDS_PER_OUTPUT",
    "SECONDS_PER_PLOT",
    "WORDS_PER_MINUTE",
    "NotebookCounts",
    "below_floor",
    "count_notebook",
    "exercise_floor",
    "optional_floor",
    "optional_start",
    "teaching_floor",
]

WORDS_PER_MINUTE = 120
SECONDS_PER_CODE_LINE = 10
SECONDS_PER_OUTPUT = 30
SECONDS_PER_PLOT = 60
MINUTES_PER_TODO = 5
MINUTES_TO_CHECK = 1
#: The most teaching minutes a lesson may state (issue 12: split it or move a deep dive out).
MAX_TEACHING_MIN = 60
#: How the heading of a lesson's optional last section starts.
OPTIONAL_HEADING = "Going further (optional)"

_OPTIONAL = re.compile(r"#{1,6}\s+" + re.escape(OPTIONAL_HEADING))

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class NotebookCounts:
    """What the timing rule counts in a notebook.

    Attributes:
        words: words in markdown cells.
        code_lines: non-blank lines in code cells.
        outputs: saved outputs that are not plots.
        plots: saved outputs holding an image.
        run_s: recorded execution time of the code cells, in seconds.
        todo_cells: cells tagged for the learner to fill in (``perflab.role == "todo"``).
    """

    words: int
    code_lines: int
    outputs: int
    plots: int
    run_s: float
    todo_cells: int


def _cell_run_s(cell: dict[str, Any]) -> float:
    stamps = cell.get("metadata", {}).get("execution", {})
    start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
    if not (isinstance(start, str) and isinstance(end, str)):
        return 0.0
    try:
        elapsed = datetime.fromisoformat(end.replace("Z", "+00:00")) - datetime.fromisoformat(
            start.replace("Z", "+00:00")
        )
    except ValueError:
        return 0.0
    return max(0.0, elapsed.total_seconds())


def _text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def optional_start(nb: dict[str, Any]) -> int | None:
    """The index of the cell that opens the optional part, or None when there is none.

    That is the first markdown cell whose first non-blank line is a heading starting with
    ``Going further (optional)`` (``## Going further (optional): ...``).
    """
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "markdown":
            continue
        lines = [line for line in _text(cell).splitlines() if line.strip()]
        if lines and _OPTIONAL.match(lines[0].strip()):
            return index
    return None


def count_notebook(nb: dict[str, Any], *, optional: bool = False) -> NotebookCounts:
    """Count a notebook (as plain JSON) the way the timing rule reads it.

    Cells the course generator wrote (``metadata.perflab.generated``) are skipped.

    Args:
        nb: the notebook.
        optional: count the optional part (see ``optional_start``) instead of the rest.
    """
    words = lines = outputs = plots = todo = 0
    run_s = 0.0
    start = optional_start(nb)
    if start is None:
        start = len(nb["cells"])  # no optional part: everything is teaching
    cells = nb["cells"][start:] if optional else nb["cells"][:start]
    for cell in cells:
        meta = cell.get("metadata", {}).get("perflab", {})
        if not isinstance(meta, dict):
            meta = {}
        if meta.get("generated"):
            continue
        text = _text(cell)
        if cell.get("cell_type") == "markdown":
            words += len(_WORD.findall(text))
        elif cell.get("cell_type") == "code":
            lines += sum(1 for line in text.splitlines() if line.strip())
            for out in cell.get("outputs", []):
                if any(k.startswith("image/") for k in out.get("data", {})):
                    plots += 1
                else:
                    outputs += 1
            run_s += _cell_run_s(cell)
            todo += meta.get("role") == "todo"
    return NotebookCounts(words, lines, outputs, plots, run_s, todo)


def teaching_floor(counts: NotebookCounts) -> int:
    """The fewest minutes a lesson with these counts can take, by the rule above."""
    seconds = (
        counts.words * 60 / WORDS_PER_MINUTE
        + counts.code_lines * SECONDS_PER_CODE_LINE
        + counts.outputs * SECONDS_PER_OUTPUT
        + counts.plots * SECONDS_PER_PLOT
        + counts.run_s
    )
    return math.ceil(round(seconds / 60, 6))


def optional_floor(nb: dict[str, Any]) -> int:
    """Minutes of a lesson's optional part by the same rule (0 when it has none)."""
    return teaching_floor(count_notebook(nb, optional=True))


def exercise_floor(counts: NotebookCounts) -> int:
    """The fewest minutes an exercise with these counts can take: reading plus the TODOs."""
    return teaching_floor(counts) + counts.todo_cells * MINUTES_PER_TODO + MINUTES_TO_CHECK


def below_floor(outline: Outline) -> list[tuple[str, str, int, int]]:
    """Every stated time the rule says is too short: (notebook, kind, stated, floor).

    ``kind`` is ``"teaching"`` for a lesson and ``"exercises"`` for its exercise notebook.
    A lesson's optional part (``optional_start``) is not part of its teaching floor.
    """
    from perflab.course.outline import read_json

    short = []
    for lesson in outline.lessons:
        floor = teaching_floor(count_notebook(read_json(outline.root / lesson.path)))
        if lesson.teaching_min < floor:
            short.append((lesson.path, "teaching", lesson.teaching_min, floor))
        if lesson.exercise:
            floor = exercise_floor(count_notebook(read_json(outline.root / lesson.exercise)))
            if lesson.exercise_min < floor:
                short.append((lesson.exercise, "exercises", lesson.exercise_min, floor))
    return short
