"""`perflab sim run` and `perflab sim compare`."""

from __future__ import annotations

import json
import math
import re

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
    assert data["latency"]["p95_s"] == data["p95_latency_s"]  # the deprecated key still reads
    for key in (
        "latency",
        "cost_per_article_usd",
        "hit_rate",
        "false_hits_per_hit",
        "false_hit_rate",
        "error_rate",
        "throughput_per_hour",
    ):
        assert key in data


_RUN = ["sim", "run", "--profile", "agency", "--requests", "60", "--seed", "3"]


def test_run_json_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    """`sim run --json` keeps every digit of the summary (nothing rounded)."""
    from perflab.sim.run import simulate
    from perflab.sim.workload import Workload

    main([*_RUN, "--json"])
    data = json.loads(capsys.readouterr().out)
    summary = simulate("agency", seed=3, workload=Workload(requests=60, workers=20)).summary
    assert data == summary.as_dict()


def test_run_prints_labelled_rounded_figures_with_units(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`sim run` shows the JSON's figures rounded, labelled and with units, not raw keys."""
    main([*_RUN, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert main(_RUN) == 0
    out = capsys.readouterr().out
    p95 = data["latency"]["p95_s"]
    assert f"P95 {p95:.3g} s" in out if p95 >= 1 else f"P95 {p95 * 1000:.3g} ms" in out
    assert f"{data['share_under_5s']:.1%} of requests" in out
    assert f"${data['cost_per_article_usd']:.4f} per article" in out
    assert f"hit rate {data['hit_rate']:.1%}" in out
    assert f"{data['throughput_per_hour']:,.0f} articles per hour" in out
    assert "(simulated: service parameters in docs/sim.md)" in out
    assert "p95_latency_s" not in out and "cost_usd" not in out
    assert not re.search(r"\d\.\d{5,}", out), "a figure is printed with too many digits"


def test_run_verdict_says_one_run_and_how_to_get_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The human output ends by saying it is one sample and how to get an interval."""
    main(_RUN)
    out = " ".join(capsys.readouterr().out.split())
    assert "one run with seed 3 is a single sample" in out
    assert "--seed 1, --seed 2" in out and "perflab.stats.replicate" in out


def test_format_summary_says_n_a_for_figures_a_run_could_not_have() -> None:
    """A run where every request failed shows n/a, no hits and no pool, never 'nan'."""
    from perflab.cli.sim import format_summary
    from perflab.metrics import LatencySummary
    from perflab.sim.run import SimSummary

    nan = math.nan
    failed = SimSummary(
        profile="baseline",
        seed=0,
        requests=10,
        completed=0,
        duration_s=5.0,
        latency=LatencySummary(10, nan, nan, nan, nan, nan),
        share_under_5s=0.0,
        throughput_per_hour=0.0,
        cost_usd=0.0,
        cost_per_article_usd=nan,
        hit_rate=0.0,
        false_hits_per_hit=0.0,
        error_rate=1.0,
        retries=0,
        pool_wait_p95_s=nan,
        pool_saturation=nan,
        calls_by_service={},
    )
    out = format_summary(failed)
    assert "nan" not in out.lower().replace("n/a", "")
    assert "P95 n/a" in out and "no article delivered" in out and "no hits" in out
    assert "connection pool  off" in out and "100.0% of requests failed" in out


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


def _docs_cli() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")


def test_docs_show_the_real_sim_run_output(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/cli.md's `perflab sim run` example is exactly what the command prints."""
    command = "$ perflab sim run --profile agency --requests 500\n"
    doc = _docs_cli()
    shown = doc[doc.index(command) + len(command) :].split("\n```", 1)[0]
    assert main(["sim", "run", "--profile", "agency", "--requests", "500"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == shown


def test_docs_interval_snippet_gives_an_interval() -> None:
    """The docs' replicate() snippet runs and returns a 99% interval over 5 seeds."""
    doc = _docs_cli()
    start = doc.index("```python\nfrom perflab.sim import simulate") + len("```python\n")
    snippet = doc[start : doc.index("```", start)]
    *setup, last = [line for line in snippet.splitlines() if line and not line.startswith("#")]
    namespace: dict[str, object] = {}
    exec("\n".join(setup), namespace)  # noqa: S102 - our own documentation
    ci = eval(last, namespace)
    assert ci.n == 5 and ci.confidence == 0.99 and ci.low < ci.mean < ci.high
