"""The shape every lesson and exercise keeps, so a learner can follow it.

The rules (docs/course.md, "Shape of a lesson"):

- **Short cells.** In beginner notebooks no code cell has more than 20 code lines, and a
  beginner lesson shows a result before its 16th line of code. In intermediate and
  advanced notebooks no code cell has more than 40. A code line is a non-blank line, as in
  the timing rule. An exercise's check cells are the grader's, not read to learn, and are
  not counted; nor are solutions, whose extra lines are the answers.
- **A "Your turn" in every lesson** but the welcome: a markdown cell opening with
  ``### Your turn``, then (later in the notebook) its answer: a code cell tagged
  ``your-turn-answer`` and ``hide-cell`` whose source and output JupyterLab shows
  collapsed (``metadata.jupyter.source_hidden`` and ``outputs_hidden``).

- **Every glossary term linked at its first use.** ``unlinked_terms(nb)`` lists the terms
  of :data:`perflab.glossary.TERMS` whose first use in a lesson's running prose (headings,
  code spans and generated cells aside) is not a link to their glossary entry, and no
  earlier link to that entry exists in the lesson.

``problems(outline)`` lists every break of these rules, one line each, naming the
notebook and the cell as JupyterLab shows it (the heading above it and its number among
the code cells).
"""

from __future__ import annotations

import re
from typing import Any

from perflab.course.outline import Outline, read_json

__all__ = [
    "ANSWER_TAGS",
    "BEFORE_FIRST_RESULT",
    "CELL_LIMITS",
    "code_lines",
    "exercise_problems",
    "lesson_problems",
    "problems",
    "unlinked_terms",
]

#: The most code lines one cell may hold, by level.
CELL_LIMITS: dict[str, int] = {"welcome": 20, "beginner": 20, "intermediate": 40, "advanced": 40}

#: In a beginner lesson, the most code lines before the first output.
BEFORE_FIRST_RESULT = 15

#: The tags of a "Your turn" answer cell.
ANSWER_TAGS = frozenset({"your-turn-answer", "hide-cell"})

_YOUR_TURN = re.compile(r"^###\s+Your turn\b")
_HEADING = re.compile(r"^#{1,6}\s+(.*)")


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def code_lines(cell: dict[str, Any]) -> int:
    """The number of non-blank lines of a code cell's source."""
    return sum(1 for line in _source(cell).splitlines() if line.strip())


def _where(cells: list[dict[str, Any]], index: int) -> str:
    """'code cell 4 under "Heading"': how a learner finds cell ``index`` in JupyterLab."""
    number = sum(1 for c in cells[: index + 1] if c.get("cell_type") == "code")
    heading = ""
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                match = _HEADING.match(line.strip())
                if match:
                    heading = match.group(1).strip()
            if heading:
                break
    return f'code cell {number} under "{heading}"' if heading else f"code cell {number}"


def _long_cells(nb: dict[str, Any], limit: int, *, skip_checks: bool) -> list[str]:
    cells = nb.get("cells", [])
    found = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        role = cell.get("metadata", {}).get("perflab", {}).get("role")
        if skip_checks and role == "check":
            continue
        n = code_lines(cell)
        if n > limit:
            found.append(f"{_where(cells, i)} has {n} code lines (at most {limit})")
    return found


def _your_turn(nb: dict[str, Any]) -> list[str]:
    cells = nb.get("cells", [])
    starts = [
        i
        for i, c in enumerate(cells)
        if c.get("cell_type") == "markdown" and _YOUR_TURN.match(_source(c).lstrip())
    ]
    if not starts:
        return ["no '### Your turn' markdown cell"]
    found = []
    answers = [
        i
        for i, c in enumerate(cells)
        if c.get("cell_type") == "code"
        and ANSWER_TAGS <= set(c.get("metadata", {}).get("tags", []))
    ]
    if not any(a > starts[0] for a in answers):
        found.append(
            "no answer after '### Your turn': a code cell tagged "
            + " and ".join(sorted(ANSWER_TAGS))
        )
    for i in answers:
        hidden = cells[i].get("metadata", {}).get("jupyter", {})
        if not (hidden.get("source_hidden") and hidden.get("outputs_hidden")):
            found.append(
                f"{_where(cells, i)} is a Your-turn answer but is not collapsed "
                "(metadata.jupyter.source_hidden and outputs_hidden)"
            )
    return found


_GLOSSARY_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]*glossary\.md)#([\w-]+)\)")
_CODE_SPAN = re.compile(r"`[^`]*`")
_OTHER_LINK = re.compile(r"\[[^\]]*\]\((?![^)\s]*glossary\.md#)[^)]*\)")


def _prose(nb: dict[str, Any]) -> str:
    """The lesson's running prose: hand-written markdown without headings or code spans."""
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        if cell.get("metadata", {}).get("perflab", {}).get("generated"):
            continue
        for line in _source(cell).splitlines():
            if not _HEADING.match(line.strip()):
                # Same length, so positions still line up with the links found in it.
                parts.append(_CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line))
    return "\n".join(parts)


def unlinked_terms(nb: dict[str, Any]) -> list[str]:
    """Glossary terms whose first use in ``nb``'s prose is not linked to their entry."""
    from perflab.glossary import TERMS

    # Another link's text (a lesson's title, say) names a page; it is not a use of a term.
    text = _OTHER_LINK.sub(lambda m: " " * len(m.group(0)), _prose(nb))
    links = [(m.start(), m.group(3)) for m in _GLOSSARY_LINK.finditer(text)]
    # A link's URL is not prose: blank it so a term inside a path is never a "use".
    for m in _GLOSSARY_LINK.finditer(text):
        start = m.start(2) - 1
        text = text[:start] + " " * (m.end() - start) + text[m.end() :]
    found = []
    for term, anchor in TERMS.items():
        pattern = r"(?<![\w-])" + re.escape(term) + r"(?![\w-])"
        use = re.search(pattern, text, re.IGNORECASE)
        if use and not any(a == anchor and at <= use.start() for at, a in links):
            found.append(term)
    return found


def lesson_problems(nb: dict[str, Any], level: str, *, welcome: bool = False) -> list[str]:
    """The shape rules ``nb``, a lesson at ``level``, breaks (empty when none)."""
    found = _long_cells(nb, CELL_LIMITS[level], skip_checks=False)
    if level in ("welcome", "beginner"):
        before = 0
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("outputs"):
                break
            before += code_lines(cell)
        else:
            before = 0  # nothing has an output: the saved-outputs test reports that
        # The cell that shows the first result counts too.
        first = next(
            (c for c in nb.get("cells", []) if c.get("cell_type") == "code" and c.get("outputs")),
            None,
        )
        if first is not None:
            before += code_lines(first)
            if before > BEFORE_FIRST_RESULT:
                found.append(
                    f"{before} code lines come before the first result "
                    f"(at most {BEFORE_FIRST_RESULT})"
                )
    if not welcome:
        found.extend(_your_turn(nb))
    found.extend(
        f"'{term}' is used before it is linked to docs/glossary.md" for term in unlinked_terms(nb)
    )
    return found


def exercise_problems(nb: dict[str, Any], level: str) -> list[str]:
    """The shape rules ``nb``, an exercise of a lesson at ``level``, breaks."""
    return _long_cells(nb, CELL_LIMITS[level], skip_checks=True)


def problems(outline: Outline) -> list[str]:
    """Every break of the shape rules in the outline's lessons and exercises, one per line."""
    found = []
    levels = {lesson.id: lesson.level for lesson in outline.lessons}
    for lesson in outline.lessons:
        nb = read_json(outline.root / lesson.path)
        welcome = lesson.level == "welcome"  # 00 maps the course: nothing to try yet
        for problem in lesson_problems(nb, lesson.level, welcome=welcome):
            found.append(f"{lesson.path}: {problem}")
    for entry in outline.exercises.values():
        if entry.role == "solution":
            continue  # a solution's extra lines are the answer the learner writes
        nb = read_json(outline.root / entry.path)
        for problem in exercise_problems(nb, levels[entry.lesson]):
            found.append(f"{entry.path}: {problem}")
    return found
