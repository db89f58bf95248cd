"""The SQLite cache file: its schema, its versions and migrations, and the read-only check.

Schema versions: 1 entries and counters; 2 adds ``lookups``, the bounded lookup log
(the last ``log_size`` lookups per namespace, replayed by ``perflab cache stats``).
``MIGRATIONS[n]`` takes a file from version n to n + 1; ``SQLiteStore`` runs them all
in one transaction when it opens an older file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from perflab.errors import CacheFileError

__all__ = [
    "APP",
    "APPLICATION_ID",
    "FIX",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "inspect_cache_file",
]

SCHEMA_VERSION = 2
APPLICATION_ID = 0x70666C62  # b"pflb": `PRAGMA application_id` marks the file as ours
APP = "perflab-cache"
HEADER = b"SQLite format 3\x00"
#: Version 1: the schema version, entries and counters.
SCHEMA_V1 = (
    "CREATE TABLE perflab_schema (app TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL,
        query TEXT NOT NULL,
        dim INTEGER NOT NULL,
        vector BLOB NOT NULL,          -- little-endian float32, unit length
        value TEXT NOT NULL,
        intent TEXT,
        created_at REAL NOT NULL,      -- seconds on the cache's clock
        expires_at REAL NOT NULL
    )""",
    "CREATE INDEX entries_namespace_expires ON entries (namespace, expires_at)",
    "CREATE INDEX entries_expires ON entries (expires_at)",
    """CREATE TABLE counters (
        namespace TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL,
        PRIMARY KEY (namespace, name)
    )""",
)
#: Version 2 adds the lookup log.
LOOKUPS = (
    """CREATE TABLE lookups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        namespace TEXT NOT NULL,
        query TEXT NOT NULL,
        similarity REAL,               -- best servable entry; NULL: the cache had none
        threshold REAL NOT NULL,
        hit INTEGER NOT NULL,
        intent TEXT,                   -- the query's true intent, when the caller gave it
        matched_intent TEXT,           -- the best entry's intent
        at REAL NOT NULL               -- seconds on the cache's clock
    )""",
    "CREATE INDEX lookups_namespace_id ON lookups (namespace, id)",
)
#: What a new file gets.
SCHEMA = SCHEMA_V1 + LOOKUPS
#: Statements that take a file from version N to N + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: LOOKUPS}
FIX = "it was left untouched; move it away or point PERFLAB_CACHE_PATH at another file"


def inspect_cache_file(path: Path) -> bool:
    """Check, read-only, that ``path`` can be opened as a cache; return ``True`` if it is new.

    New means missing, empty (0 bytes) or a SQLite database with no tables. A cache of
    an older schema version passes (``SQLiteStore`` migrates it).

    Raises:
        CacheFileError: not SQLite, corrupted, foreign, or a newer schema.
    """
    if not path.exists():
        return True
    if path.is_dir():
        raise CacheFileError(f"{path} is a directory, not a cache file; {FIX}")
    with path.open("rb") as f:
        head = f.read(len(HEADER))
    if not head:
        return True
    if head != HEADER:
        raise CacheFileError(f"{path} is not a perflab cache (not a SQLite database); {FIX}")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            version = None
            if "perflab_schema" in tables:
                row = conn.execute(
                    "SELECT version FROM perflab_schema WHERE app = ?", (APP,)
                ).fetchone()
                version = row[0] if row else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CacheFileError(f"{path} is corrupted ({exc}); {FIX}") from exc
    if not tables and app_id in (0, APPLICATION_ID):
        return True
    if app_id != APPLICATION_ID or version is None:
        listed = ", ".join(sorted(tables)) or "none"
        raise CacheFileError(
            f"{path} is a SQLite database but not a perflab cache (tables: {listed}); {FIX}"
        )
    if version != SCHEMA_VERSION and version not in MIGRATIONS:
        newer = (
            "a newer perflab (upgrade perflab)"
            if version > SCHEMA_VERSION
            else "an unknown perflab"
        )
        raise CacheFileError(
            f"{path} has cache schema version {version}, written by {newer}; "
            f"this perflab reads version {SCHEMA_VERSION}; {FIX}"
        )
    return False
