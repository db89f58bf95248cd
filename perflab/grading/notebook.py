"""How exercise notebooks are marked up, and what the grader expects of one.

Cells carry namespaced metadata, ``{"perflab": {"exercise": "03.cost", "role": "check"}}``,
with ``role`` one of ``todo`` (the learner's part), ``check`` (calls the check functions)
and ``parameters`` (the papermill parameters cell, exercise id optional). The grader finds
cells by this metadata, never by position, so learners may move, copy and split cells.

The notebook's own metadata holds ``{"perflab": {"id": "03_cache_economics",
"manifest": {...}}}``. The manifest (the exercise ids, the parameters' default values
and a digest of each check cell) is what the grader holds the learner's notebook to; it
is taken from the solution notebook with the same id when one is installed, so a
learner's edits to their copy cannot move the goalposts.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.grading.checks import source_digest

__all__ = [
    "ROLES",
    "CellTag",
    "Manifest",
    "cell_tag",
    "find_reference",
    "load_manifest",
    "manifest_from_notebook",
    "parse_parameters",
    "read_notebook",
    "reference_dirs",
    "write_notebook",
    "writes_notebook",
]

ROLES = ("todo", "check", "parameters")


@dataclass(frozen=True)
class CellTag:
    """The ``perflab`` metadata of one cell."""

    exercise: str
    role: str


@dataclass(frozen=True)
class Manifest:
    """What a notebook's exercises are, as the grader understands them.

    Attributes:
        notebook_id: the notebook's id (``metadata.perflab.id``), "" when it has none.
        exercises: exercise ids in the order of their first check cell.
        parameters: default values of the parameters cell's literal assignments.
        checks: exercise id -> digests of its check cells' sources (empty: not known).
        source: where the manifest came from: "reference", "metadata" or "cells".
    """

    notebook_id: str
    exercises: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "cells"

    def as_dict(self) -> dict[str, Any]:
        """The manifest as stored in notebook metadata."""
        return {
            "exercises": list(self.exercises),
            "parameters": self.parameters,
            "checks": {k: list(v) for k, v in self.checks.items()},
        }


def read_notebook(path: str | Path) -> Any:
    """Read a notebook file as nbformat v4 (nbformat's functions are untyped)."""
    import nbformat

    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def writes_notebook(nb: Any) -> str:
    """A notebook as the text nbformat would write."""
    import nbformat

    return str(nbformat.writes(nb))  # type: ignore[no-untyped-call]


def write_notebook(nb: Any, path: str | Path) -> None:
    """Write a notebook file."""
    Path(path).write_text(writes_notebook(nb) + "\n", encoding="utf-8")


def cell_tag(cell: Any) -> CellTag | None:
    """The cell's ``perflab`` tag, or None when it has none (or a malformed one)."""
    meta = cell.get("metadata", {}).get("perflab")
    if not isinstance(meta, dict):
        return None
    role = meta.get("role")
    if role not in ROLES:
        return None
    exercise = meta.get("exercise", "")
    return CellTag(exercise=str(exercise) if exercise is not None else "", role=str(role))


def parse_parameters(source: str) -> dict[str, Any]:
    """The literal assignments of a parameters cell (``seed = 0``), by name.

    Non-literal assignments and other statements are skipped; a cell that does not
    parse gives an empty dict.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    values: dict[str, Any] = {}
    for node in tree.body:
        target = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name):
            try:
                values[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, RecursionError):  # not a literal, or {[]: 1}
                continue
    return values


def manifest_from_notebook(nb: Any, source: str = "cells") -> Manifest:
    """Derive the manifest from a notebook's cells (used on solutions)."""
    exercises: list[str] = []
    checks: dict[str, list[str]] = {}
    parameters: dict[str, Any] = {}
    for cell in nb.cells:
        tag = cell_tag(cell)
        if tag is None or cell.cell_type != "code":
            continue
        if tag.role == "parameters":
            parameters.update(parse_parameters(cell.source))
        elif tag.role == "check" and tag.exercise:
            if tag.exercise not in checks:
                exercises.append(tag.exercise)
                checks[tag.exercise] = []
            checks[tag.exercise].append(source_digest(cell.source))
    meta = nb.metadata.get("perflab", {})
    notebook_id = str(meta.get("id", "")) if isinstance(meta, dict) else ""
    return Manifest(
        notebook_id=notebook_id,
        exercises=tuple(exercises),
        parameters=parameters,
        checks={k: tuple(v) for k, v in checks.items()},
        source=source,
    )


def reference_dirs() -> list[Path]:
    """Folders searched for reference solutions: the checkout's, then the installed ones."""
    package = Path(__file__).resolve().parent.parent
    return [
        p
        for p in (package.parent / "solutions", package / "_curriculum" / "solutions")
        if p.is_dir()
    ]


def find_reference(
    notebook_id: str, dirs: list[Path] | tuple[Path, ...] | None = None
) -> Path | None:
    """The solution notebook whose ``metadata.perflab.id`` is ``notebook_id``, if installed."""
    if not notebook_id:
        return None
    for folder in reference_dirs() if dirs is None else dirs:
        for path in sorted(folder.glob("*.ipynb")):
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("perflab", {})
            except (OSError, ValueError, KeyError, AttributeError):
                continue
            if isinstance(meta, dict) and meta.get("id") == notebook_id:
                return path
    return None


def load_manifest(nb: Any, dirs: list[Path] | tuple[Path, ...] | None = None) -> Manifest:
    """The manifest to grade ``nb`` against: reference solution, else metadata, else cells.

    ``dirs`` are the reference folders (None: the installed ones; ``()``: none).
    """
    meta = nb.metadata.get("perflab", {})
    meta = meta if isinstance(meta, dict) else {}
    reference = find_reference(str(meta.get("id", "")), dirs)
    if reference is not None:
        try:
            ref_nb = read_notebook(reference)
        except Exception:  # noqa: BLE001 - an unreadable reference is no reason not to grade
            ref_nb = None
        if ref_nb is not None:
            return manifest_from_notebook(ref_nb, source="reference")
    stored = meta.get("manifest")
    if isinstance(stored, dict) and isinstance(stored.get("exercises"), list):
        return Manifest(
            notebook_id=str(meta.get("id", "")),
            exercises=tuple(str(e) for e in stored["exercises"]),
            parameters=dict(stored.get("parameters") or {}),
            checks={
                str(k): tuple(str(d) for d in v)
                for k, v in (stored.get("checks") or {}).items()
                if isinstance(v, list)
            },
            source="metadata",
        )
    return manifest_from_notebook(nb, source="cells")
