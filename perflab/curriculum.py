"""The learner's working copy of the curriculum: outputs cleared, made without overwriting.

The repository (and the wheel's ``perflab/_curriculum``) keeps its notebooks executed, for
nbval and the website. A learner works on a *copy* instead, so that:

* no lesson opens with its numbers already printed (a guess made after seeing the answer
  is not a guess): every code cell's outputs and execution count are cleared, while the
  notebook's and each cell's metadata (outline, tags, papermill parameters) are kept;
* autosaves land in the copy, never in the repository's notebooks;
* in **room** mode the copy has no ``solutions/``; in **self-paced** mode it has them,
  last in the file browser, with their outputs cleared too.

Making a copy is transactional: every file is written to a temporary name and linked into
place only if nothing is there yet, so a second run never overwrites what the learner
wrote and a crash never leaves half a notebook. ``.perflab/copy.json`` records the mode
the copy was made in; later runs keep it (a room copy never gains solutions).
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perflab.errors import PerflabError

__all__ = [
    "LINKED_FILES",
    "MANIFEST",
    "CopyReport",
    "Mode",
    "cleared_notebook",
    "find_copy",
    "make_copy",
    "read_mode",
]

#: The file, inside a copy, that says how the copy was made.
MANIFEST = Path(".perflab") / "copy.json"

_SKIPPED_PARTS = (".ipynb_checkpoints", "__pycache__")
#: Files outside the curriculum folders that lessons link to (copied when present).
LINKED_FILES = ("docs/glossary.md",)


class Mode(enum.Enum):
    """Who the copy is for."""

    #: A learner on their own: lessons, exercises and (out of the way) solutions.
    SELF_PACED = "self-paced"
    #: A learner in a taught room: lessons and exercises; the teacher keeps the solutions.
    ROOM = "room"

    def folders(self) -> tuple[str, ...]:
        """The curriculum folders this mode copies, learner folders first."""
        if self is Mode.ROOM:
            return ("notebooks", "exercises")
        return ("notebooks", "exercises", "solutions")


@dataclass(frozen=True)
class CopyReport:
    """What one :func:`make_copy` did.

    Attributes:
        root: the copy's folder.
        mode: the mode the copy is in (the one it was first made in).
        copied: files written now (relative to ``root``).
        kept: files that were already there and were left exactly as they were.
        mode_kept: ``True`` when the copy was made earlier in another mode than asked.
    """

    root: Path
    mode: Mode
    copied: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    mode_kept: bool = False

    def summary(self) -> str:
        """One line for the learner: what was copied, what was kept."""
        parts = []
        if self.copied:
            parts.append(f"copied {len(self.copied)} files")
        if self.kept:
            parts.append(f"kept {len(self.kept)} files you already had, unchanged")
        if not parts:
            parts.append("nothing to copy")
        text = f"{self.root} ({self.mode.value}): " + "; ".join(parts)
        if self.mode_kept:
            text += f" (the copy was made in {self.mode.value} mode, and stays so)"
        return text


def cleared_notebook(raw: bytes) -> bytes:
    """The notebook ``raw`` with every code cell's outputs and execution count cleared.

    Metadata is kept, so the outline, cell tags and papermill parameters survive.

    Raises:
        PerflabError: ``raw`` is not a notebook nbformat can read.
    """
    import nbformat  # only when copying: it pulls in jsonschema

    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    except Exception as exc:  # nbformat raises several kinds for a bad file
        raise PerflabError(f"not a notebook nbformat can read: {exc}") from exc
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return (str(nbformat.writes(nb)) + "\n").encode("utf-8")  # type: ignore[no-untyped-call]


def read_mode(root: Path) -> Mode | None:
    """The mode recorded in the copy at ``root``, or ``None`` if it has no manifest."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        return Mode(data["mode"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_copy(start: Path) -> Path | None:
    """The copy that ``start`` is in (itself or a parent holding a manifest), if any."""
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            return folder
    return None


def make_copy(
    source: Path,
    target: Path,
    mode: Mode = Mode.SELF_PACED,
    exercises: Sequence[str] | None = None,
) -> CopyReport:
    """Copy the curriculum at ``source`` into ``target``; never overwrite a file there.

    Args:
        source: a folder holding notebooks/, exercises/ and (for self-paced) solutions/.
        target: the working copy; created if missing. Must not be ``source`` itself.
        mode: the mode for a new copy; an existing copy keeps the mode it was made in.
        exercises: copy only these exercises (and their solutions), each named by a
            part of its file name (``01`` or ``01_percentiles``); ``None`` copies all.
            The lessons are always copied.

    Returns:
        What was copied and what was kept.

    Raises:
        PerflabError: ``source`` has no curriculum, ``target`` is ``source``, or a name
            in ``exercises`` matches no exercise.
    """
    source, target = source.resolve(), target.resolve()
    if source == target:
        raise PerflabError(f"the working copy must not be the curriculum itself ({source})")
    if not (source / "notebooks").is_dir():
        raise PerflabError(f"no curriculum in {source}: expected a notebooks/ folder there")
    wanted = _chosen_exercises(source, exercises)
    recorded = read_mode(target)
    in_force = recorded or mode
    report = CopyReport(target, in_force, mode_kept=recorded is not None and recorded != mode)
    target.mkdir(parents=True, exist_ok=True)
    for folder in in_force.folders():
        for original in sorted((source / folder).rglob("*")):
            rel = original.relative_to(source)
            if not original.is_file() or any(p in _SKIPPED_PARTS for p in rel.parts):
                continue
            if wanted is not None and folder != "notebooks" and original.stem not in wanted:
                continue
            data = original.read_bytes()
            if original.suffix == ".ipynb":
                data = cleared_notebook(data)
            written = _write_new(target / rel, data)
            (report.copied if written else report.kept).append(rel)
    for rel_name in LINKED_FILES:
        linked = source / rel_name
        if linked.is_file():
            written = _write_new(target / rel_name, linked.read_bytes())
            (report.copied if written else report.kept).append(Path(rel_name))
    if recorded is None:
        manifest = {"mode": in_force.value, "source": str(source)}
        _write_new(target / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return report


def _chosen_exercises(source: Path, names: Sequence[str] | None) -> set[str] | None:
    """The exercise stems ``names`` select, or ``None`` for all of them."""
    if names is None:
        return None
    stems = sorted(p.stem for p in (source / "exercises").rglob("*.ipynb"))
    chosen: set[str] = set()
    for name in names:
        found = [s for s in stems if name.strip() and name.strip() in s]
        if not found:
            raise PerflabError(
                f"no exercise matches {name!r}; the exercises are: {', '.join(stems)}"
            )
        chosen.update(found)
    return chosen


def _write_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` only if nothing is there; ``False`` if something was.

    The bytes go to a temporary file first, which is then *linked* to ``path``: linking
    fails if ``path`` exists, so an existing file is never replaced, and a reader never
    sees half a file.
    """
    if path.exists() or path.is_symlink():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".perflab-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: the exclusive create is next best
            try:
                with open(path, "xb") as out:
                    out.write(data)
            except FileExistsError:
                return False
        return True
    finally:
        os.unlink(tmp)
