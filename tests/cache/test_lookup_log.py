"""The lookup log: every lookup is logged, bounded, transactional, and survives a schema migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from perflab.cache import (
    LoggedLookup,
    LookupLog,
    MemoryStore,
    NewEntry,
    SemanticCache,
    SQLiteStore,
    VectorStore,
)
from perflab.cache.stores._sqlite_file import APP, APPLICATION_ID, SCHEMA_V1, SCHEMA_VERSION
from perflab.clock import FakeClock
from perflab.embedders import HashingEmbedder
from perflab.errors import CacheFileError
from tests.cache.conftest import STORE_FACTORIES, unit

NS = "test/v1-3"


def _record(i: int, *, similarity: float | None = 0.5, hit: bool = False) -> LoggedLookup:
    return LoggedLookup(f"q{i}", similarity, 0.8, hit, "a", "b", float(i))


LOCAL_KINDS = ["memory", "sqlite", "memory-ivf", "sqlite-ivf"]


@pytest.fixture(params=LOCAL_KINDS)
def local_store(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    """A fresh memory or SQLite store (the stores that keep a lookup log)."""
    made: VectorStore = STORE_FACTORIES[request.param](request)
    yield made
    made.close()


def test_stores_keep_a_lookup_log(local_store: VectorStore) -> None:
    """Memory and SQLite stores are LookupLogs: what is logged comes back, oldest first."""
    store = local_store
    assert isinstance(store, LookupLog)
    records = [_record(1), _record(2, similarity=None), _record(3, similarity=0.9, hit=True)]
    for r in records:
        store.log_lookup(NS, r)
    store.log_lookup("other/ns", _record(4))
    assert store.lookup_log(NS) == records
    assert store.lookup_log("nothing/here") == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_log_keeps_only_the_last_log_size_lookups(kind: str, tmp_path: Path) -> None:
    """Past log_size, the oldest lookups of a namespace are dropped; other namespaces keep theirs."""
    store: LookupLog = (
        MemoryStore(log_size=5) if kind == "memory" else SQLiteStore(tmp_path / "c", log_size=5)
    )
    store.log_lookup("other/ns", _record(0))
    for i in range(1, 13):
        store.log_lookup(NS, _record(i))
        if i % 4 == 0 and isinstance(store, SQLiteStore):
            store.incr(NS, {"lookups": 1})  # flushes: trimming happens across several writes
    assert [r.query for r in store.lookup_log(NS)] == [f"q{i}" for i in range(8, 13)]
    assert len(store.lookup_log("other/ns")) == 1
    if isinstance(store, SQLiteStore):
        store.close()
        with sqlite3.connect(tmp_path / "c") as conn:
            assert conn.execute("SELECT COUNT(*) FROM lookups").fetchone() == (6,)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_log_size_zero_keeps_nothing_and_clear_forgets(kind: str, tmp_path: Path) -> None:
    """log_size=0 logs nothing; clear_lookup_log empties one namespace or all."""
    off: LookupLog = (
        MemoryStore(log_size=0) if kind == "memory" else SQLiteStore(tmp_path / "a", log_size=0)
    )
    off.log_lookup(NS, _record(1))
    assert off.lookup_log(NS) == []
    on: LookupLog = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "b")
    for ns in (NS, "x/1", "y/1"):
        on.log_lookup(ns, _record(1))
    assert on.clear_lookup_log(NS) == 1 and on.lookup_log(NS) == []
    assert on.clear_lookup_log() == 2 and on.lookup_log("x/1") == []
    with pytest.raises(ValueError, match="log_size"):
        MemoryStore(log_size=-1)


def test_cache_logs_hits_misses_and_intents() -> None:
    """Each lookup is logged with its best similarity, the threshold, the verdict and both intents."""
    cache = SemanticCache(
        HashingEmbedder(dim=64), MemoryStore(), threshold=0.8, clock=FakeClock(start=5.0)
    )
    cache.lookup("python list sort", intent="sort")  # empty cache
    cache.put("python list sort", "sorted()", intent="sort")
    cache.lookup("Python list sort!", intent="sort")  # hit
    cache.lookup("weather in paris")  # miss, no intent
    first, hit, miss = cache.lookup_log()
    assert (first.similarity, first.hit, first.intent, first.matched_intent) == (
        None,
        False,
        "sort",
        None,
    )
    assert hit.hit and hit.similarity is not None and hit.similarity >= 0.8
    assert (hit.threshold, hit.intent, hit.matched_intent, hit.at) == (0.8, "sort", "sort", 5.0)
    assert not miss.hit and miss.intent is None and miss.matched_intent == "sort"
    assert cache.has_lookup_log and len(cache.lookup_log()) == cache.stats().lookups


def test_store_without_a_log_still_works() -> None:
    """A store that keeps no log (a plain VectorStore) serves lookups; the log reads empty."""

    class NoLog:
        def __init__(self) -> None:
            self._inner = MemoryStore()

        def __getattr__(self, name: str) -> object:
            if name in ("log_lookup", "lookup_log", "clear_lookup_log", "log_size"):
                raise AttributeError(name)
            return getattr(self._inner, name)

    cache = SemanticCache(HashingEmbedder(dim=64), NoLog(), clock=FakeClock())  # type: ignore[arg-type]
    cache.put("q", "v")
    assert cache.lookup("q").hit
    assert not cache.has_lookup_log and cache.lookup_log() == []


def test_sqlite_logs_a_lookup_in_the_same_transaction_as_its_counters(tmp_path: Path) -> None:
    """If the log row cannot be written, the lookup's counter update is rolled back with it."""
    path = tmp_path / "cache.sqlite"
    store = SQLiteStore(path)
    cache = SemanticCache(HashingEmbedder(dim=64), store, clock=FakeClock())
    cache.lookup("first")
    store._db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON lookups WHEN NEW.query = 'boom' "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
        cache.lookup("boom")
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT COUNT(*) FROM lookups").fetchone() == (1,)
        assert other.execute("SELECT value FROM counters WHERE name = 'lookups'").fetchone() == (1,)
    other.close()


def _v1_file(path: Path, n: int) -> None:
    """A cache file exactly as perflab's schema version 1 wrote it, with n entries."""
    conn = sqlite3.connect(path)
    for statement in SCHEMA_V1:
        conn.execute(statement)
    conn.execute("INSERT INTO perflab_schema VALUES (?, 1)", (APP,))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for i in range(n):
        v = unit(1.0, i + 1.0, 0.5)
        conn.execute(
            "INSERT INTO entries (namespace, query, dim, vector, value, intent, created_at,"
            " expires_at) VALUES (?, ?, 3, ?, ?, ?, 0.0, 1e12)",
            (NS, f"q{i}", v.astype("<f4").tobytes(), f"v{i}", f"i{i % 3}"),
        )
    conn.execute("INSERT INTO counters VALUES (?, 'lookups', 7)", (NS,))
    conn.commit()
    conn.close()


def test_version_1_file_is_migrated_keeping_every_entry(tmp_path: Path) -> None:
    """A schema-1 cache opens: every entry and counter is kept, the version moves to 2, the log works."""
    path = tmp_path / "cache.sqlite"
    _v1_file(path, 25)
    with SQLiteStore(path) as store:
        assert store.count() == 25 and store.counters(NS) == {"lookups": 7}
        for i in (0, 12, 24):
            entry = store.get(i + 1)
            assert entry is not None
            assert (entry.query, entry.value, entry.intent) == (f"q{i}", f"v{i}", f"i{i % 3}")
        assert store.search(NS, unit(1.0, 13.0, 0.5))[0].query == "q12"
        store.log_lookup(NS, _record(1))
        assert store.lookup_log(NS) == [_record(1)]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM perflab_schema").fetchone() == (SCHEMA_VERSION,)
    conn.close()
    with SQLiteStore(path) as again:  # reopening a migrated file changes nothing
        assert again.count() == 25 and len(again.lookup_log(NS)) == 1


def test_failed_migration_leaves_the_file_at_version_1(tmp_path: Path) -> None:
    """A migration that fails half-way is rolled back: version 1 and every entry remain."""
    path = tmp_path / "cache.sqlite"
    _v1_file(path, 3)
    with sqlite3.connect(path) as conn:  # an index of that name makes the second step fail
        conn.execute("CREATE INDEX lookups_namespace_id ON entries (query)")
    conn.close()
    with pytest.raises(CacheFileError, match="could not be read"):
        SQLiteStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM perflab_schema").fetchone() == (1,)
        assert conn.execute("SELECT COUNT(*) FROM entries").fetchone() == (3,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "lookups" not in tables
    conn.close()


def test_unknown_older_version_is_refused_untouched(tmp_path: Path) -> None:
    """A version this perflab has no migration for (0) is refused, the file unchanged."""
    path = tmp_path / "cache.sqlite"
    _v1_file(path, 1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE perflab_schema SET version = 0")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(CacheFileError, match="schema version 0"):
        SQLiteStore(path)
    assert path.read_bytes() == before


def test_add_many_entries_then_log_in_one_file(tmp_path: Path) -> None:
    """Entries and the log live side by side: clearing entries keeps the log."""
    with SQLiteStore(tmp_path / "c") as store:
        store.add_many(NS, [NewEntry("q", unit(1, 0, 0), "v")])
        store.log_lookup(NS, _record(1))
        store.clear()
        assert store.lookup_log(NS) == [_record(1)]
