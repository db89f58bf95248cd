"""perflab.compose: the semantic cache the settings describe."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.cache import EmbeddingCache, MemoryStore, SQLiteStore
from perflab.clock import FakeClock
from perflab.compose import open_cache
from perflab.embedders import HashingEmbedder


def test_open_cache_from_explicit_values(tmp_path: Path) -> None:
    """open_cache builds embedder, LRU wrapper, store and threshold from explicit values."""
    cache = open_cache(
        None,
        embedder="hashing",
        backend="sqlite",
        path=tmp_path / "x" / "c.sqlite",
        threshold=0.7,
        ttl_days=30,
        embedding_cache_size=10,
        clock=FakeClock(),
    )
    assert isinstance(cache.embedder, EmbeddingCache) and cache.namespace == "hashing/v1-384"
    assert isinstance(cache.store, SQLiteStore) and cache.threshold == 0.7 and cache.ttl_days == 30
    assert (tmp_path / "x" / "c.sqlite").exists()
    cache.close()


def test_open_cache_reads_settings_like_objects() -> None:
    """Settings fields (the lower-case env names) configure the cache."""

    class FakeSettings:
        cache_similarity_threshold = 0.6
        cache_ttl_days = 30.0
        embedding_cache_size = 0
        perflab_embedder = "hashing"
        perflab_cache_backend = "memory"

    cache = open_cache(FakeSettings(), clock=FakeClock())
    assert (cache.threshold, cache.ttl_days, cache.namespace) == (0.6, 30.0, "hashing/v1-384")
    assert isinstance(cache.store, MemoryStore) and isinstance(cache.embedder, HashingEmbedder)


def test_open_cache_from_real_settings_profile(tmp_path: Path) -> None:
    """The budget profile's threshold and TTL reach the cache; PERFLAB_CACHE_PATH picks the file."""
    from perflab.config import load_settings

    settings = load_settings(
        "budget",
        env_file=None,
        perflab_embedder="hashing",
        perflab_cache_path=tmp_path / "c.sqlite3",
    )
    with open_cache(settings, clock=FakeClock()) as cache:
        assert (cache.threshold, cache.ttl_days) == (0.7, 30.0)
        assert isinstance(cache.store, SQLiteStore) and cache.store.path == tmp_path / "c.sqlite3"
        assert isinstance(cache.embedder, EmbeddingCache)  # EMBEDDING_CACHE_SIZE defaults to 1000


def test_open_cache_postgres_without_url_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choosing the postgres backend without DATABASE_URL (and no embedded server running) says what to set."""
    from perflab.errors import ConfigError

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path))  # no embedded server lives here
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        open_cache(None, embedder="hashing", backend="postgres")


def test_default_sqlite_file_follows_perflab_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path, the SQLite file is perflab.paths' default: PERFLAB_DATA_DIR/cache.sqlite3."""
    from perflab.paths import CACHE_FILE_NAME

    monkeypatch.setenv("PERFLAB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PERFLAB_CACHE_PATH", raising=False)
    with open_cache(object(), embedder="hashing", backend="sqlite", clock=FakeClock()) as cache:
        assert isinstance(cache.store, SQLiteStore)
        assert cache.store.path == tmp_path / CACHE_FILE_NAME
