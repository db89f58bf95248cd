"""Which exercise notebook a submission is, and whether the grader may grade it.

A notebook names its exercise in ``metadata.perflab.id``. When reference solutions are
installed, that id must be one of theirs: the reference supplies the manifest (the
exercises, parameters and check cells) and the expected values, so a learner's edits
can't move the goalposts. A notebook whose id is missing or unknown is refused rather
than graded from its own cells; so is one whose id is not the one the teacher named
(``--expect``), or (in a room) one whose file is named for another exercise than the
one it holds. Without any reference installed the notebook's own checks decide, and
the report says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perflab.grading.notebook import Manifest, load_manifest, manifest_from_notebook, read_notebook
from perflab.grading.results import NOTEBOOK_ROW, ExerciseResult, Status

__all__ = ["Identity", "identify", "references"]


@dataclass(frozen=True)
class Identity:
    """What the grader holds a notebook to.

    Attributes:
        manifest: the exercises, parameters and check digests to grade against.
        reference: the reference solution's file (None: no reference installed).
        refusal: a row refusing the notebook (then nothing is run), or None.
        notes: rows to add to the report (how the notebook was identified).
    """

    manifest: Manifest
    reference: Path | None = None
    refusal: ExerciseResult | None = None
    notes: list[ExerciseResult] = field(default_factory=list)


def references(dirs: tuple[Path, ...] | list[Path] | None = None) -> dict[str, Path]:
    """Installed reference solutions by notebook id (first folder wins)."""
    from perflab.grading.notebook import reference_dirs

    found: dict[str, Path] = {}
    for folder in reference_dirs() if dirs is None else dirs:
        for path in sorted(Path(folder).glob("*.ipynb")):
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("perflab", {})
            except (OSError, ValueError, KeyError, AttributeError):
                continue
            if isinstance(meta, dict) and isinstance(meta.get("id"), str):
                found.setdefault(meta["id"], path)
    return found


def _refuse(status: Status, text: str) -> Identity:
    row = ExerciseResult(NOTEBOOK_ROW, status, text)
    return Identity(Manifest("", ()), refusal=row)


def identify(
    nb: Any, path: Path, expect: str | None = None, dirs: tuple[Path, ...] | None = None
) -> Identity:
    """Decide what ``nb`` (read from ``path``) is graded as, or refuse it.

    Args:
        nb: the learner's notebook.
        path: its file (the name is checked against the ids in a room).
        expect: the id the teacher says this file must have (``--expect``), if any.
        dirs: the reference folders; None means the installed ones.
    """
    known = references(dirs)
    meta = nb.metadata.get("perflab", {})
    raw = meta.get("id") if isinstance(meta, dict) else None
    notebook_id = raw if isinstance(raw, str) else ""
    if not known:
        if expect:
            return _refuse(Status.UNGRADED, f"--expect {expect}: no reference solutions installed")
        note = ExerciseResult(
            NOTEBOOK_ROW,
            Status.WARNING,
            "not enforced: no reference solutions are installed, so this notebook was "
            "graded by its own check cells, which code in the notebook can fake",
        )
        return Identity(load_manifest(nb), notes=[note])
    if expect and expect not in known:
        return _refuse(
            Status.UNGRADED,
            f"--expect {expect}: no reference solution has that id; "
            f"known: {', '.join(sorted(known))}",
        )
    start = "start again from a fresh copy of the exercise notebook"
    notes: list[ExerciseResult] = []
    if expect and notebook_id and notebook_id != expect:
        return _refuse(
            Status.TAMPERED,
            f"this notebook is exercise {notebook_id}, but this file must be {expect}: "
            "refused, not graded",
        )
    if expect and not notebook_id:
        notebook_id = expect
        notes.append(
            ExerciseResult(
                NOTEBOOK_ROW,
                Status.WARNING,
                f"the notebook has no perflab id (metadata.perflab.id); graded as {expect}, "
                "as --expect says",
            )
        )
    if not notebook_id:
        return _refuse(
            Status.MISSING,
            "the notebook has no perflab id (metadata.perflab.id), so the checker can't tell "
            f"which exercise it is: refused, not graded; {start}, or name the exercise with "
            "--expect ID",
        )
    if notebook_id not in known:
        return _refuse(
            Status.TAMPERED,
            f"the notebook's perflab id {notebook_id!r} is no exercise the checker knows "
            f"(was metadata.perflab.id edited?): refused, not graded; {start}",
        )
    stem = path.stem
    if not expect and stem in known and stem != notebook_id:
        return _refuse(
            Status.TAMPERED,
            f"the file is named for exercise {stem} but holds exercise {notebook_id}: "
            "refused, not graded; hand in the right notebook",
        )
    reference = known[notebook_id]
    try:
        manifest = manifest_from_notebook(read_notebook(reference), source="reference")
    except Exception as exc:  # noqa: BLE001 - a broken install: say so, never grade blind
        return _refuse(Status.UNGRADED, f"the reference solution {reference} is unreadable: {exc}")
    return Identity(manifest, reference, notes=notes)
