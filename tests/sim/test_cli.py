"""`perflab sim run` and `perflab sim compare`."""

from __future__ import annotations

import json

import pytest

from perflab.cli import main


def test_run_json_prints_the_summary_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """`sim run --json` prints one JSON object with the documented snake_case keys."""
    assert (
        main(["sim", "run", "--profile", "agency", "--requests", "60", "--seed", "3", "--json"])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["profile"] == "agency" and data["requests"] == 60
    for key in (
        "p95_latency_s",
        "cost_per_article_usd",
        "hit_rate",
        "false_hit_rate",
        "error_rate",
        "throughput_per_hour",
    ):
        assert key in data


def test_run_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """The same seed prints the same summary."""
    main(["sim", "run", "--requests", "40", "--seed", "1", "--json"])
    first = capsys.readouterr().out
    main(["sim", "run", "--requests", "40", "--seed", "1", "--json"])
    assert capsys.readouterr().out == first


def test_compare_judges_each_claim(capsys: pytest.CaptureFixture[str]) -> None:
    """`sim compare` prints each scenario's claim beside the measurement and a verdict."""
    assert main(["sim", "compare", "--requests", "80"]) == 0
    out = capsys.readouterr().out
    for claim in ("80% cost reduction", "5x throughput increase", "95% requests under 5s"):
        assert claim in out
    assert "held in the simulation" in out or "did NOT hold" in out


def test_compare_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`sim compare --json` gives the checks and each summary."""
    assert main(["sim", "compare", "budget", "--requests", "50", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {c["profile"] for c in data["checks"]} == {"baseline", "budget"}
    assert data["checks"][1]["metric"] == "cost_reduction"


def test_unknown_profile_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown profile is one error line naming it, exit code 2."""
    assert main(["sim", "run", "--profile", "turbo"]) == 2
    assert "profile ('turbo') is unknown" in capsys.readouterr().err


def test_zero_requests_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """--requests 0 is refused by argparse, naming the option."""
    with pytest.raises(SystemExit) as info:
        main(["sim", "run", "--requests", "0"])
    assert info.value.code == 2
    assert "--requests" in capsys.readouterr().err
