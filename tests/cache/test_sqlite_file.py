"""SQLiteStore's file: created when missing, refused untouched when foreign, transactional."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from perflab.cache import NewEntry, SQLiteStore
from perflab.cache.stores.sqlite import SCHEMA_VERSION
from perflab.errors import CacheFileError
from tests.cache.conftest import unit

NS = "test/v1-3"


def _assert_refused_untouched(path: Path, match: str) -> None:
    before = path.read_bytes()
    siblings = set(path.parent.iterdir())
    with pytest.raises(CacheFileError, match=match):
        SQLiteStore(path)
    assert path.read_bytes() == before
    assert set(path.parent.iterdir()) == siblings


def test_missing_file_and_folders_are_created(tmp_path: Path) -> None:
    """A missing cache file is created, parent folders included, with the schema version."""
    path = tmp_path / "a" / "b" / "cache.sqlite"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM perflab_schema").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_empty_file_is_initialised(tmp_path: Path) -> None:
    """A zero-byte file (e.g. from `touch`) becomes an empty cache."""
    path = tmp_path / "cache.sqlite"
    path.touch()
    with SQLiteStore(path) as store:
        assert store.count() == 0


def test_non_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    """Random bytes raise CacheFileError and the file keeps every byte."""
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 50)
    _assert_refused_untouched(path, "not a SQLite database")


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    """Someone else's SQLite database raises CacheFileError naming its tables, unchanged."""
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.close()
    _assert_refused_untouched(path, "not a perflab cache.*invoices")


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    """A cache written by a newer perflab raises CacheFileError asking for an upgrade."""
    path = tmp_path / "cache.sqlite"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE perflab_schema SET version = ?", (SCHEMA_VERSION + 1,))
    conn.execute("PRAGMA journal_mode=DELETE")  # outside the transaction, so it takes effect
    conn.close()
    _assert_refused_untouched(path, "upgrade perflab")


def test_truncated_cache_is_refused_untouched(tmp_path: Path) -> None:
    """A cache file cut short is reported as corrupted and not modified."""
    path = tmp_path / "cache.sqlite"
    store = SQLiteStore(path)
    store.add_many(NS, [NewEntry(f"q{i}", unit(1, i, 0), "v" * 3000) for i in range(50)])
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the file
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 4000)
    with pytest.raises(CacheFileError, match="corrupted|could not be read"):
        SQLiteStore(path).search(NS, unit(1, 0, 0))


def test_failed_write_leaves_previous_data_intact(tmp_path: Path) -> None:
    """A failure in the middle of a batch rolls all of it back, in the file and in the matrix."""
    path = tmp_path / "cache.sqlite"
    store = SQLiteStore(path)
    keep = store.add(NS, "keep", unit(1, 0, 0), "kept", created_at=0.0, expires_at=100.0)
    # A trigger makes the second insert of the batch fail after the first succeeded.
    store._db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON entries WHEN NEW.query = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    batch = [NewEntry("fine", unit(0, 1, 0), "v"), NewEntry("boom", unit(0, 0, 1), "v")]
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        store.add_many(NS, batch)
    assert store.count() == 1
    assert [h.id for h in store.search(NS, unit(0, 1, 0), k=5)] == [keep]
    store.close()
    with SQLiteStore(path) as again:
        assert again.count() == 1 and again.get(keep) is not None
        assert again.get(keep).value == "kept"  # type: ignore[union-attr]


def test_other_connections_see_writes(tmp_path: Path) -> None:
    """A second store on the same file sees the first one's entries at its next search."""
    path = tmp_path / "cache.sqlite"
    a, b = SQLiteStore(path), SQLiteStore(path)
    assert b.search(NS, unit(1, 0, 0)) == []
    entry_id = a.add(NS, "q", unit(1, 0, 0), "v", created_at=0.0, expires_at=9.0)
    assert [h.id for h in b.search(NS, unit(1, 0, 0))] == [entry_id]
    a.clear()
    assert b.search(NS, unit(1, 0, 0)) == []
    a.close()
    b.close()


def test_vectors_round_trip_as_float32(tmp_path: Path) -> None:
    """Vectors come back bit-identical after a reopen."""
    path = tmp_path / "cache.sqlite"
    v = unit(0.3, -0.2, 0.9)
    with SQLiteStore(path) as store:
        entry_id = store.add(NS, "q", v, "v", created_at=1.0, expires_at=2.0)
    with SQLiteStore(path) as store:
        entry = store.get(entry_id)
        assert entry is not None and entry.vector.dtype == np.float32
        np.testing.assert_array_equal(entry.vector, v)
        assert (entry.created_at, entry.expires_at) == (1.0, 2.0)


def test_closed_store_says_so(tmp_path: Path) -> None:
    """Using a closed store raises an error naming the file; repr shows closed."""
    store = SQLiteStore(tmp_path / "c.sqlite")
    store.close()
    store.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        store.count()
    assert repr(store).endswith("[closed]>")
