"""The predictions file: a small SQLite database in the learner's data folder.

Two tables: ``guesses`` (every guess kept, hindsight ones flagged) and ``reveals`` (the
latest measured value per lesson and name). Every read and write is one transaction that
takes the write lock first (``BEGIN IMMEDIATE``), so two kernels writing at once wait for
each other instead of losing a guess. A file that is not ours is never changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from perflab.errors import PerflabError

__all__ = [
    "FILE_NAME",
    "PredictionsFileError",
    "predictions_path",
    "read_guesses",
    "record_guess",
    "record_reveal",
    "transaction",
]

#: The predictions file's name inside the data folder.
FILE_NAME = "predictions.sqlite3"
_APPLICATION_ID = 0x70726564  # b"pred": `PRAGMA application_id` marks the file as ours
_APP = "perflab-predictions"
_VERSION = 1
_HEADER = b"SQLite format 3\x00"
_SCHEMA = (
    "CREATE TABLE perflab_schema (app TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    """CREATE TABLE guesses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        lesson TEXT NOT NULL,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        low REAL,
        high REAL,
        unit TEXT NOT NULL,
        recorded_at TEXT NOT NULL,     -- ISO 8601, UTC
        hindsight INTEGER NOT NULL     -- 1: written after its reveal had run
    )""",
    "CREATE INDEX guesses_key ON guesses (lesson, name)",
    """CREATE TABLE reveals (
        lesson TEXT NOT NULL,
        name TEXT NOT NULL,
        measured REAL NOT NULL,        -- the latest reveal's value
        first_revealed_at TEXT NOT NULL,
        revealed_at TEXT NOT NULL,
        PRIMARY KEY (lesson, name)
    )""",
)
_FIX = "it was left untouched; move it away (a new one is made) or set PERFLAB_DATA_DIR"

#: A guess as stored: value, low, high, unit.
Guess = tuple[float, "float | None", "float | None", str]


class PredictionsFileError(PerflabError):
    """The predictions file is corrupted or belongs to another program; it was left untouched."""


PredictionsFileError.__module__ = "perflab.predict"


def predictions_path(data_dir: Path | None = None) -> Path:
    """The predictions file: ``data_dir/predictions.sqlite3`` (default: perflab's data folder)."""
    if data_dir is None:
        from perflab.paths import data_dir as default_data_dir

        data_dir = default_data_dir()
    return Path(data_dir) / FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@contextmanager
def transaction(path: Path, *, create: bool) -> Iterator[sqlite3.Connection | None]:
    """One write-locked transaction on the file.

    Yields ``None`` when the file is missing (or empty) and ``create`` is false; with
    ``create`` the folder and the file are made. Commits on success, rolls back on error.

    Raises:
        PredictionsFileError: the file is corrupted, foreign, or of another version.
    """
    if path.is_dir():
        raise PredictionsFileError(f"{path} is a directory, not a predictions file; {_FIX}")
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as f:
            if f.read(len(_HEADER)) != _HEADER:
                raise PredictionsFileError(
                    f"{path} is not a perflab predictions file (not a SQLite database); {_FIX}"
                )
    elif not create:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: no lost updates
            _check_or_create(conn, path)
        except sqlite3.OperationalError as exc:  # locked too long, read-only, no space
            raise PredictionsFileError(f"could not use {path} ({exc}); {_FIX}") from exc
        except sqlite3.DatabaseError as exc:
            raise PredictionsFileError(f"{path} is corrupted ({exc}); {_FIX}") from exc
        yield conn
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def _check_or_create(conn: sqlite3.Connection, path: Path) -> None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if not tables and app_id in (0, _APPLICATION_ID):
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute("INSERT INTO perflab_schema VALUES (?, ?)", (_APP, _VERSION))
        conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        return
    row = None
    if "perflab_schema" in tables:
        row = conn.execute("SELECT version FROM perflab_schema WHERE app = ?", (_APP,)).fetchone()
    if app_id != _APPLICATION_ID or row is None:
        listed = ", ".join(sorted(tables)) or "none"
        raise PredictionsFileError(
            f"{path} is a SQLite database but not a perflab predictions file "
            f"(tables: {listed}); {_FIX}"
        )
    if row[0] != _VERSION:
        raise PredictionsFileError(
            f"{path} has predictions version {row[0]}; this perflab reads version "
            f"{_VERSION} (upgrade perflab); {_FIX}"
        )


def record_guess(
    conn: sqlite3.Connection, key: tuple[str, str], guess: Guess, *, seen: bool
) -> bool:
    """Write a guess in the open transaction and return whether it is hindsight.

    The same guess again (a re-run) changes nothing. A changed guess before any reveal
    replaces the old one. After a reveal (recorded here, or ``seen`` in this session) a
    changed guess is added as hindsight, and the earlier ones are kept.
    """
    revealed = seen or (
        conn.execute("SELECT 1 FROM reveals WHERE lesson = ? AND name = ?", key).fetchone()
        is not None
    )
    latest = conn.execute(
        "SELECT id, value, low, high, unit, hindsight FROM guesses "
        "WHERE lesson = ? AND name = ? ORDER BY id DESC LIMIT 1",
        key,
    ).fetchone()
    if latest is not None and tuple(latest[1:5]) == guess:
        return bool(latest[5])
    if latest is not None and not revealed and not latest[5]:
        conn.execute(
            "UPDATE guesses SET value = ?, low = ?, high = ?, unit = ?, recorded_at = ? "
            "WHERE id = ?",
            (*guess, _now(), latest[0]),
        )
        return False
    conn.execute(
        "INSERT INTO guesses (lesson, name, value, low, high, unit, recorded_at, hindsight) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (*key, *guess, _now(), int(revealed)),
    )
    return revealed


def record_reveal(conn: sqlite3.Connection, key: tuple[str, str], measured: float) -> None:
    """Write (or update) the measured value of a reveal in the open transaction."""
    now = _now()
    conn.execute(
        "INSERT INTO reveals (lesson, name, measured, first_revealed_at, revealed_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (lesson, name) "
        "DO UPDATE SET measured = excluded.measured, revealed_at = excluded.revealed_at",
        (*key, measured, now, now),
    )


def read_guesses(path: Path) -> list[tuple[Any, ...]]:
    """Every guess row, oldest first, joined with its reveal's measured value.

    Columns: lesson, name, value, low, high, recorded_at, hindsight, measured, unit.
    """
    with transaction(path, create=False) as conn:
        if conn is None:
            return []
        return conn.execute(
            "SELECT g.lesson, g.name, g.value, g.low, g.high, g.recorded_at, g.hindsight, "
            "r.measured, g.unit FROM guesses g LEFT JOIN reveals r "
            "ON r.lesson = g.lesson AND r.name = g.name ORDER BY g.recorded_at, g.id"
        ).fetchall()
