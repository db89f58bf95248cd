"""Tests for perflab.lessons.command_line: lesson 03's ``python main.py`` runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from perflab.lessons.command_line import PLACEHOLDER, clean_env, find_root, main_py, shown_command

REPO = Path(__file__).resolve().parents[1]


def test_find_root_walks_up_to_the_checkout() -> None:
    """From the lessons' folder the root is the folder with main.py and perflab/."""
    assert find_root(REPO / "notebooks" / "beginner") == REPO
    assert find_root(REPO) == REPO


def test_find_root_is_none_outside_a_checkout(tmp_path: Path) -> None:
    assert find_root(tmp_path) is None


def test_clean_env_drops_settings_and_pins_the_scratch_folder(tmp_path: Path) -> None:
    """Exported perflab settings (any case) are left out; other variables are kept."""
    env = clean_env(
        tmp_path,
        {"CACHE_SIMILARITY_THRESHOLD": "0.5", "cache_ttl_days": "1", "HOME": "/home/x"},
    )
    assert "CACHE_SIMILARITY_THRESHOLD" not in env and "cache_ttl_days" not in env
    assert env["HOME"] == "/home/x"
    assert env["PERFLAB_DATA_DIR"] == str(tmp_path)
    assert env["PERFLAB_CACHE_PATH"] == str(tmp_path / "cache.sqlite3")
    assert (env["PERFLAB_EMBEDDER"], env["PERFLAB_CACHE_BACKEND"]) == ("wordllama", "sqlite")


def test_shown_command_is_what_a_learner_types() -> None:
    assert shown_command(("cache", "stats")) == "python main.py cache stats"
    assert (
        shown_command(("cache", "query", "two words"), threshold=0.7)
        == "CACHE_SIMILARITY_THRESHOLD=0.7 python main.py cache query 'two words'"
    )


def test_main_py_runs_prints_and_hides_the_scratch_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache stats` on an empty scratch folder: the folder's path never shows."""
    text = main_py("cache", "stats", data_dir=tmp_path, threshold=0.7, start=REPO)
    printed = capsys.readouterr().out
    assert printed.startswith("$ CACHE_SIMILARITY_THRESHOLD=0.7 python main.py cache stats\n")
    assert printed.endswith(text)
    assert str(tmp_path) not in text
    assert PLACEHOLDER in text
    assert "0.70" in text  # the threshold reached the command


def test_main_py_raises_with_the_error_output(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no-such-verb"):
        main_py("no-such-verb", data_dir=tmp_path, start=REPO, echo=False)
