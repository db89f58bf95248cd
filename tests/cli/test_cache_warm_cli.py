"""`perflab cache warm`, and `cache stats` replaying the lookup log at the threshold in force."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from perflab.cache.stores.sqlite import SCHEMA_VERSION
from tests.cli.conftest import REPO, Run

WORDLLAMA = {"PERFLAB_EMBEDDER": "wordllama"}


def _log(path: Path) -> list[tuple[float | None, str | None, str | None, int]]:
    """The lookup log, read straight from the cache file."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT similarity, intent, matched_intent, hit FROM lookups ORDER BY id"
        ).fetchall()
    conn.close()
    return rows


def _expected(
    log: list[tuple[float | None, str | None, str | None, int]], threshold: float
) -> tuple[int, int, int]:
    """(hits, audited, false hits) at ``threshold``, recomputed here from the raw rows."""
    audited = [r for r in log if r[1] is not None and (r[0] is None or r[2] is not None)]
    hits = [r for r in log if r[0] is not None and r[0] >= threshold]
    false = [r for r in hits if r in audited and r[2] != r[1]]
    return len(hits), len(audited), len(false)


def test_exercise_lowering_the_threshold_shows_more_hits_and_more_false_hits(
    run: Run, data_dir: Path
) -> None:
    """After `cache warm`, stats at 0.7 replays at least the hits and false hits of 0.8, as the log says."""
    warm = run(str(REPO / "main.py"), "cache", "warm", module=False, env=WORDLLAMA)
    assert warm.returncode == 0, warm.stderr
    assert "500 simulated requests" in warm.stdout and "no API was called" in warm.stdout
    log = _log(data_dir / "cache.sqlite3")
    assert len(log) == 500
    figures = {}
    for threshold in ("0.8", "0.7"):
        done = run(
            "cache", "stats", "--json", env={**WORDLLAMA, "CACHE_SIMILARITY_THRESHOLD": threshold}
        )
        assert done.returncode == 0, done.stderr
        replay = json.loads(done.stdout)["lookup_log"]
        assert replay["label"] == "replayed from the last 500 lookups"
        assert replay["kept"] == 10_000
        recorded, replayed = replay["recorded"], replay["replayed"]
        assert (recorded["threshold"], recorded["hits"]) == (0.8, sum(r[3] for r in log))
        hits, audited, false = _expected(log, float(threshold))
        assert (replayed["hits"], replayed["audited"], replayed["false_hits"]) == (
            hits,
            audited,
            false,
        )
        assert replayed["threshold"] == float(threshold) and audited == 500
        figures[threshold] = replayed
    low, high = figures["0.7"], figures["0.8"]
    assert low["hit_rate"] > high["hit_rate"]
    assert low["audited_false_rate"] >= high["audited_false_rate"]


def test_stats_text_shows_recorded_and_replayed_side_by_side(run: Run, data_dir: Path) -> None:
    """The text report labels the replay and shows both columns and the counts."""
    assert run("cache", "warm", "--requests", "200", "--seed", "3").returncode == 0
    out = run("cache", "stats", env={"CACHE_SIMILARITY_THRESHOLD": "0.5"}).stdout
    assert "replayed from the last 200 lookups (CACHE_SIMILARITY_THRESHOLD now 0.50):" in out
    assert "as logged at 0.80  replayed at 0.50" in out
    assert "lookups        200" in out
    hits_line = next(line for line in out.splitlines() if line.startswith("  hits"))
    assert hits_line.count("%") == 2


def test_stats_on_an_empty_log_points_at_warm(run: Run, data_dir: Path) -> None:
    """With nothing logged, stats says how to get a history to replay."""
    done = run("cache", "stats")
    assert done.returncode == 0, done.stderr
    assert "lookup log     empty: `python main.py cache warm`" in done.stdout
    assert json.loads(run("cache", "stats", "--json").stdout)["lookup_log"]["lookups"] == 0


def test_warm_is_seeded(run: Run, data_dir: Path, tmp_path: Path) -> None:
    """The same seed on a fresh cache gives the same summary; another seed another workload."""
    first = run("cache", "warm", "--requests", "100", "--seed", "7", "--zipf", "1.2").stdout
    other = {"PERFLAB_DATA_DIR": str(tmp_path / "other")}
    again = run("cache", "warm", "--requests", "100", "--seed", "7", "--zipf", "1.2", env=other)
    assert again.stdout == first and "seed 7, zipf 1.2" in first
    third = {"PERFLAB_DATA_DIR": str(tmp_path / "third")}
    assert run("cache", "warm", "--requests", "100", "--seed", "8", env=third).stdout != first


def test_warm_stores_answers_labelled_simulated(run: Run, data_dir: Path) -> None:
    """Every entry warm stores says it is a simulated placeholder."""
    assert run("cache", "warm", "--requests", "50").returncode == 0
    with sqlite3.connect(data_dir / "cache.sqlite3") as conn:
        values = [r[0] for r in conn.execute("SELECT value FROM entries")]
    conn.close()
    assert values and all(v.startswith("[simulated by perflab cache warm") for v in values)


@pytest.mark.parametrize(
    "args", [["--requests", "0"], ["--zipf", "-1"], ["--zipf", "inf"], ["--seed", "x"]]
)
def test_warm_refuses_bad_arguments(run: Run, data_dir: Path, args: list[str]) -> None:
    """Bad --requests, --zipf or --seed stop with a usage error (exit 2) before any write."""
    done = run("cache", "warm", *args)
    assert done.returncode == 2 and "usage:" in done.stderr
    assert not (data_dir / "cache.sqlite3").exists()


def test_warm_shows_a_progress_bar_on_a_terminal(data_dir: Path) -> None:
    """On a terminal, warm draws a tqdm progress bar on stderr; piped, it does not."""
    leader, follower = pty.openpty()
    # 24 rows x 80 columns: a new pty is 0 x 0, and tqdm draws nothing in 0 columns.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    done = subprocess.run(
        [sys.executable, "-m", "perflab", "cache", "warm", "--requests", "40"],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"cache warm:" in drawn and b"/40 [" in drawn
    assert b"cache warm:" not in done.stdout


def test_cache_file_of_the_previous_schema_is_migrated(run: Run, populated: Path) -> None:
    """A version-1 cache (no lookup log) opens in `cache stats`: entries and counters kept, log added."""
    with sqlite3.connect(populated) as conn:
        conn.execute("DROP TABLE lookups")
        conn.execute("UPDATE perflab_schema SET version = 1")
    conn.close()
    done = run("cache", "stats", "--json")
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert (stats["entries"], stats["lookups"], stats["lookup_log"]["lookups"]) == (4, 2, 0)
    with sqlite3.connect(populated) as conn:
        assert conn.execute("SELECT version FROM perflab_schema").fetchone() == (SCHEMA_VERSION,)
    conn.close()
