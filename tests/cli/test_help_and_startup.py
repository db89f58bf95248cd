"""Every verb has --help; --version works; the CLI starts without importing heavy packages."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from perflab.cli import build_parser, main
from tests.cli.conftest import Run

HEAVY = ("pandas", "matplotlib", "psycopg", "openai", "numpy", "pydantic")


def _verb_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.extend(_verb_paths(sub, (*prefix, name)))
    return paths


VERB_PATHS = _verb_paths(build_parser())


def test_the_contracted_verbs_are_there() -> None:
    """lab, reset, cache (stats/query/clear/cleanup), config show and doctor are registered."""
    for path in [
        ("lab",),
        ("reset",),
        ("cache", "stats"),
        ("cache", "query"),
        ("cache", "clear"),
        ("cache", "cleanup"),
        ("config", "show"),
        ("doctor",),
    ]:
        assert path in VERB_PATHS


@pytest.mark.parametrize("path", VERB_PATHS, ids=lambda p: " ".join(p) or "perflab")
def test_every_verb_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """`perflab ... VERB --help` prints a usage and exits 0."""
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("usage: perflab")


def test_version_and_help_through_python_m(run: Run) -> None:
    """`python -m perflab --version` names the version; --help lists the verbs."""
    from perflab import __version__

    done = run("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"perflab {__version__}")
    assert "cache" in run("--help").stdout


def test_group_without_a_verb_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`perflab cache` alone shows the cache verbs and exits 2 (a usage error)."""
    assert main(["cache"]) == 2
    assert "stats" in capsys.readouterr().err


def _imported(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    return {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }


def test_importing_the_cli_imports_nothing_heavy() -> None:
    """`import perflab.cli` imports no pandas, matplotlib, psycopg, openai, numpy or pydantic."""
    imported = _imported("import perflab.cli")
    assert not {m for m in imported if m.split(".")[0] in HEAVY}


def test_building_the_parser_imports_nothing_heavy() -> None:
    """Registering every verb (what --help does) imports none of the heavy packages either."""
    imported = _imported("import perflab.cli; perflab.cli.build_parser()")
    assert not {m for m in imported if m.split(".")[0] in HEAVY}
