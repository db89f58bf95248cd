"""``perflab cache``: stats, query, clear, cleanup; a corrupted file is left alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perflab.cli import main
from tests.cli.conftest import REPO, Run


def test_main_py_cache_stats_on_empty_cache(run: Run, data_dir: Path) -> None:
    """The guide's `python main.py cache stats` works verbatim and creates a missing cache."""
    done = run(
        str(REPO / "main.py"), "cache", "stats", module=False, env={"PERFLAB_EMBEDDER": "wordllama"}
    )
    assert done.returncode == 0, done.stderr
    assert "entries        0" in done.stdout
    assert "threshold      0.80 (CACHE_SIMILARITY_THRESHOLD, default)" in done.stdout
    assert "wordllama" in done.stdout
    assert (data_dir / "cache.sqlite3").is_file()


def test_cache_stats_json_on_populated_cache(run: Run, populated: Path) -> None:
    """`cache stats --json` reports entries, stale entries, lookups, hits, misses and savings."""
    done = run("cache", "stats", "--json", env={"CACHE_SIMILARITY_THRESHOLD": "0.7"})
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["store"] == str(populated)
    assert (stats["entries"], stats["stale_entries"]) == (4, 1)
    assert (stats["lookups"], stats["hits"], stats["misses"], stats["hit_rate"]) == (2, 1, 1, 0.5)
    assert (stats["threshold"], stats["threshold_source"]) == (0.7, "environment")
    assert stats["bytes"] > 0
    assert stats["est_cost_saved_usd"] == pytest.approx(0.04)


def test_cache_stats_text_on_populated_cache(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The text report shows hit rate, stale entries with the cleanup hint, and savings."""
    assert main(["cache", "stats"]) == 0
    out = capsys.readouterr().out
    assert "hit rate       50.0%" in out
    assert "stale entries  1  -> `perflab cache cleanup`" in out
    assert "est. savings   $0.04" in out


def test_cache_query_shows_similarity_and_verdict(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache query` lists the nearest entries, their similarity and whether each would hit."""
    assert main(["cache", "query", "how to tune a postgres connection pool?", "-k", "2"]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.lstrip().startswith(("1 ", "2 "))]
    assert len(lines) == 2
    assert "yes" in lines[0] and "how to tune a postgres connection pool" in lines[0]
    assert "no" in lines[1]


def test_cache_query_json_counts_no_lookup(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache query --json` gives similarities and verdicts, and leaves the lookup counters alone."""
    assert main(["cache", "query", "weather in paris", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["threshold"] == 0.8
    assert [row["rank"] for row in result["nearest"]] == [1, 2, 3]
    assert all(not row["would_hit"] for row in result["nearest"])
    assert main(["cache", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lookups"] == 2


def test_cache_query_on_empty_cache(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """On an empty cache, query says there is nothing to compare with."""
    assert main(["cache", "query", "anything"]) == 0
    assert "the cache is empty" in capsys.readouterr().out


def test_cache_cleanup_removes_only_expired(
    populated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache cleanup` removes the expired entry and keeps the fresh ones."""
    assert main(["cache", "cleanup"]) == 0
    assert "removed 1 expired entries; 3 entries left" in capsys.readouterr().out


def test_cache_clear_with_yes(populated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cache clear --yes` deletes every entry and keeps the counters."""
    assert main(["cache", "clear", "--yes"]) == 0
    assert "deleted 4 entries" in capsys.readouterr().out
    assert main(["cache", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["entries"], stats["lookups"]) == (0, 2)


def test_cache_clear_refuses_without_yes_when_not_interactive(run: Run, populated: Path) -> None:
    """Without --yes and without a terminal, clear refuses and deletes nothing."""
    done = run("cache", "clear")
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "perflab: error: refusing to clear the cache without --yes when not run interactively"
    )
    assert "entries        4" in run("cache", "stats").stdout


def test_cache_clear_asks_on_a_terminal(
    populated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal, clear asks, and anything but yes keeps the entries."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["cache", "clear"]) == 1
    assert "nothing deleted" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert main(["cache", "clear"]) == 0
    assert "deleted 4 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\x00" * 84],
    ids=["garbage", "truncated-header"],
)
def test_corrupted_cache_file_is_left_untouched(run: Run, data_dir: Path, content: bytes) -> None:
    """A corrupted cache file gives one clear error line, exit code 2, and is not modified."""
    data_dir.mkdir(parents=True)
    path = data_dir / "cache.sqlite3"
    path.write_bytes(content)
    done = run("cache", "stats")
    assert done.returncode == 2
    assert done.stderr.startswith("perflab: error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert path.read_bytes() == content


def test_foreign_sqlite_file_is_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A SQLite file of another program is refused, not adopted."""
    import sqlite3

    data_dir.mkdir(parents=True)
    path = data_dir / "cache.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("create table notes(text)")
    before = path.read_bytes()
    assert main(["cache", "stats"]) == 2
    assert "not a perflab cache" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_invalid_setting_is_one_error_line(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad CACHE_SIMILARITY_THRESHOLD stops the command with the variable, value and allowed range."""
    monkeypatch.setenv("CACHE_SIMILARITY_THRESHOLD", "1.7")
    assert main(["cache", "stats"]) == 2
    assert capsys.readouterr().err == (
        "perflab: error: CACHE_SIMILARITY_THRESHOLD=1.7 (from the environment) is not allowed: "
        "use a number from 0.0 to 1.0\n"
    )
