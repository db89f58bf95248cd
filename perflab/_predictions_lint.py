"""Check a lesson notebook's prediction cells: tagged, shipped empty, each one revealed.

A lesson makes ``predictions = Predictions("<id>")`` once, asks with
``predictions.guess("name", None, ...)`` in a cell tagged ``predict``, and later calls
``predictions.reveal("name", value)``. These rules keep that shape true in every lesson
(``perflab.predict.notebook_problems``), so a shipped notebook never carries a guess and
every guess it asks for is revealed.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

__all__ = ["notebook_problems"]

TAG = "predict"


def _source(cell: Mapping[str, Any]) -> str:
    text = cell.get("source", "")
    text = "".join(text) if isinstance(text, list) else str(text)
    # IPython magics and shell escapes are not Python: blank them, keep line numbers.
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines()
    )


def _calls(tree: ast.AST, method: str, owners: set[str]) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in owners
    ]


def _name(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def notebook_problems(nb: Mapping[str, Any], where: str = "notebook") -> list[str]:
    """What is wrong with a notebook's prediction cells, as messages (empty: all good).

    Rules: the ``Predictions`` id is the notebook's ``metadata.perflab.course.id`` (when
    it has one); every ``guess`` is in a cell tagged ``predict``, names its prediction with
    a literal, is shipped with ``None`` and asks once per name; every tagged cell holds a
    ``guess``; every guess has a ``reveal`` in a later cell, and every reveal a guess before it.
    """
    course = nb.get("metadata", {}).get("perflab", {}).get("course", {})
    lesson_id = course.get("id") if isinstance(course, Mapping) else None
    cells = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    trees: list[ast.AST | None] = []
    problems: list[str] = []
    owners: set[str] = set()
    for index, cell in enumerate(cells):
        try:
            tree: ast.AST | None = ast.parse(_source(cell))
        except SyntaxError:
            tree = None  # not ours to judge; nbval runs it
        trees.append(tree)
        for node in ast.walk(tree) if tree is not None else ():
            made = isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            if not made:
                continue
            assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            func = node.value.func
            if getattr(func, "id", getattr(func, "attr", None)) != "Predictions":
                continue
            owners.update(t.id for t in node.targets if isinstance(t, ast.Name))
            given = _name(node.value)
            if lesson_id is not None and given != lesson_id:
                problems.append(
                    f"{where}: code cell {index} makes Predictions({given!r}), but the "
                    f"notebook's metadata.perflab.course.id is {lesson_id!r}"
                )
    guessed: dict[str, int] = {}
    for index, (cell, tree) in enumerate(zip(cells, trees)):
        tagged = TAG in cell.get("metadata", {}).get("tags", [])
        guesses = _calls(tree, "guess", owners) if tree is not None else []
        if tagged and not guesses:
            problems.append(f"{where}: code cell {index} is tagged {TAG!r} but asks for no guess")
        for call in guesses:
            name = _name(call)
            label = f"{where}: code cell {index}, guess {name!r}"
            if not tagged:
                problems.append(f"{label}: the cell is not tagged {TAG!r}")
            if name is None:
                problems.append(f"{label}: name the prediction with a literal string")
                continue
            value = call.args[1] if len(call.args) > 1 else None
            if not (isinstance(value, ast.Constant) and value.value is None):
                problems.append(f"{label}: a shipped notebook must hold None, not a guess")
            if name in guessed:
                problems.append(f"{label}: asked again (first in code cell {guessed[name]})")
            guessed.setdefault(name, index)
        for call in _calls(tree, "reveal", owners) if tree is not None else []:
            name = _name(call)
            if name is None or guessed.get(name, index) >= index:
                problems.append(
                    f"{where}: code cell {index} reveals {name!r} with no guess asked before it"
                )
            else:
                guessed[name] = -1  # revealed
    problems += [
        f"{where}: guess {name!r} (code cell {index}) is never revealed"
        for name, index in guessed.items()
        if index >= 0
    ]
    return problems
