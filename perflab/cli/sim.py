"""``perflab sim run | compare``: the simulated pipeline from the shell.

One function adds each sub-verb's parser (``_add_run``, ``_add_compare``) and one
handles it (``_run``, ``_compare``); a new sub-verb adds its own pair and one line in
``register``. Everything heavy is imported inside the handlers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.sim.run import SimSummary

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sim`` and its sub-verbs."""
    sim = subparsers.add_parser(
        "sim",
        help="run the article pipeline on simulated services (virtual time)",
        description="Simulate the guide's content pipeline: real engine pieces (cache, pool, "
        "breaker, limiter, retry, batcher), simulated web search, LLM, embeddings API and "
        "database, on a virtual clock. Figures are simulated, not measured (docs/sim.md).",
    )
    sim.set_defaults(func=lambda args: _usage(sim))
    verbs = sim.add_subparsers(title="sim verbs", dest="sim_verb", metavar="VERB")
    _add_run(verbs)
    _add_compare(verbs)
    # `sim serve` (the OpenAI/Tavily stand-in) has its own module (argparse only).
    from perflab.cli.sim_serve import register_serve

    register_serve(verbs)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_workload_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requests",
        type=_positive_int,
        metavar="N",
        help="articles (default 500; 10 with --live)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=20,
        metavar="W",
        help="closed-loop clients sending requests back to back (default 20)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="PER_S",
        help="open loop instead: Poisson arrivals per second (latency from intended start)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _requests(args: argparse.Namespace) -> int:
    if args.requests is not None:
        return int(args.requests)
    return 10 if getattr(args, "live", False) else 500  # real calls cost real money


def _workload(args: argparse.Namespace) -> Any:
    from perflab.sim.workload import Workload

    if args.rate is not None:
        return Workload(requests=_requests(args), mode="open", rate_per_s=args.rate)
    return Workload(requests=_requests(args), workers=args.workers)


# ------------------------------------------------------------------ run
def _add_run(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = verbs.add_parser(
        "run",
        help="simulate one scenario and print its summary",
        description="Simulate one scenario (a profile: baseline, budget, agency, realtime, dev, "
        "prod) and print P50/P95/P99 latency, throughput, cost per article, hit rates, "
        "error rate and pool figures.",
    )
    run.add_argument("--profile", default="baseline", metavar="NAME", help="default baseline")
    run.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="watch it: virtual seconds per wall second, with a progress bar",
    )
    run.add_argument(
        "--live",
        action="store_true",
        help="run on the real clock with the real services your settings select "
        "(PERFLAB_LLM_BACKEND=openai, PERFLAB_SEARCH_BACKEND=tavily, PERFLAB_EMBEDDER=openai); "
        "real calls cost money, so mind --requests",
    )
    _add_workload_options(run)
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from perflab.sim.run import simulate

    real: list[str] = []
    if args.live:
        from perflab.config import load_settings
        from perflab.live import build_backends, run_live

        settings = load_settings(None if args.profile == "baseline" else args.profile)
        backends = build_backends(settings)
        real = backends.real_names() or ["none (everything simulated, on real time)"]
        result = run_live(
            args.profile,
            seed=args.seed,
            settings=settings,
            workload=_workload(args),
            backends=backends,
            close_backends=True,
        )
    else:
        result = simulate(args.profile, seed=args.seed, workload=_workload(args), speed=args.speed)
    if args.json:
        print(json.dumps(result.summary.as_dict()))  # exact figures, for programs
    else:
        print(format_summary(result.summary, real, loop=_loop_text(args)))
    return 0


def _loop_text(args: argparse.Namespace) -> str:
    if args.rate is not None:
        return f"open loop, Poisson arrivals at {args.rate:g} per second"
    return f"closed loop, {args.workers} clients"


# The figures for people: rounded, with units. `--json` keeps every digit.
def _seconds(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value == 0:
        return "0 s"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    if value < 100:
        return f"{value:.3g} s"
    return f"{value:,.0f} s"


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


def _dollars(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"${value:.4f}" if value < 0.1 else f"${value:,.2f}"


def _per_article(value: float) -> str:
    return "no article delivered" if math.isnan(value) else f"{_dollars(value)} per article"


def _cache(s: SimSummary) -> str:
    if math.isnan(s.hit_rate) or s.hit_rate == 0.0:
        return f"hit rate {_share(s.hit_rate)}; no hits"
    return f"hit rate {_share(s.hit_rate)}; {_share(s.false_hits_per_hit)} of hits were false"


def _pool(s: SimSummary) -> str:
    if math.isnan(s.pool_saturation):
        return "off"
    return (
        f"wait P95 {_seconds(s.pool_wait_p95_s)}; saturated {_share(s.pool_saturation)} of the run"
    )


def format_summary(summary: SimSummary, real: Sequence[str] = (), *, loop: str = "") -> str:
    """A run's summary for people: labelled, rounded, with units, and what one run can tell.

    Args:
        summary: the run's figures.
        real: the real services used (``--live``); empty for a simulated run.
        loop: how requests arrived, e.g. "closed loop, 20 clients".
    """
    s = summary
    where = (
        f"real clock; real services: {', '.join(real)}; the rest simulated, see docs/sim.md"
        if real
        else "simulated: service parameters in docs/sim.md"
    )
    head = f"{s.profile}: {s.requests} articles, seed {s.seed}" + (f", {loop}" if loop else "")
    time_kind = "" if real else " of virtual time"
    rows = [
        (
            "latency",
            (
                f"P50 {_seconds(s.latency.p50_s)}   P95 {_seconds(s.latency.p95_s)}   "
                f"P99 {_seconds(s.latency.p99_s)}   mean {_seconds(s.latency.mean_s)}"
            ),
        ),
        ("under 5 s", f"{_share(s.share_under_5s)} of requests"),
        (
            "throughput",
            (
                f"{s.throughput_per_hour:,.0f} articles per hour ({s.completed} of "
                f"{s.requests} delivered in {_seconds(s.duration_s)}{time_kind})"
            ),
        ),
        ("cost", f"{_per_article(s.cost_per_article_usd)}, {_dollars(s.cost_usd)} in all"),
        ("semantic cache", _cache(s)),
        ("errors", f"{_share(s.error_rate)} of requests failed; {s.retries} calls retried"),
        ("connection pool", _pool(s)),
        ("calls", ", ".join(f"{k} {v:,}" for k, v in s.calls_by_service.items()) or "none"),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{head} ({where})", ""]
    lines += [f"  {label:<{width}}  {text}" for label, text in rows]
    if real:
        verdict = (
            "verdict: one run on real services. Real latencies and errors change from run to "
            "run: repeat it before you trust a difference."
        )
    else:
        verdict = (
            f"verdict: one run with seed {s.seed} is a single sample: these figures have no "
            "interval. The same seed gives the same figures again; for an interval, run other "
            "seeds (--seed 1, --seed 2, ...) or perflab.stats.replicate (docs/cli.md, sim run)."
        )
    lines += ["", *textwrap.wrap(verdict, 92)]
    return "\n".join(lines)


# ------------------------------------------------------------------ compare
def _add_compare(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    compare = verbs.add_parser(
        "compare",
        help="run the guide's scenarios and judge each claimed result",
        description="Run the scenarios on the same workload and seed; print each claim "
        "(budget: 80%% cost reduction, agency: 5x throughput, realtime: 95%% under 5 s) next "
        "to the simulated measurement, and whether it held.",
    )
    compare.add_argument(
        "profiles",
        nargs="*",
        default=["baseline", "budget", "agency", "realtime"],
        metavar="PROFILE",
        help="scenarios (default: baseline budget agency realtime)",
    )
    _add_workload_options(compare)
    compare.set_defaults(func=_compare)


def _compare(args: argparse.Namespace) -> int:
    from perflab.sim.claims import compare

    result = compare(args.profiles, seed=args.seed, workload=_workload(args))
    if args.json:
        print(json.dumps(result.as_dict()))
        return 0
    mode = f"open loop at {args.rate}/s" if args.rate else f"closed loop, {args.workers} clients"
    print(f"{_requests(args)} articles per scenario, {mode}, seed {args.seed} (simulated)\n")
    header = f"{'scenario':<10} {'claim':<24} {'needs':>8} {'measured':>9}  verdict"
    print(header)
    print("-" * len(header))
    for check in result.checks:
        if check.held is None:
            print(f"{check.profile:<10} {'(reference)':<24} {'':>8} {'':>9}  no claim")
            continue
        assert check.target is not None and check.measured is not None
        target, measured = _show(check.metric, check.target), _show(check.metric, check.measured)
        print(f"{check.profile:<10} {check.claim:<24} {target:>8} {measured:>9}  {check.verdict}")
    print()
    frame = result.to_frame()[
        [
            "profile",
            "p95_s",
            "throughput_per_hour",
            "cost_per_article_usd",
            "hit_rate",
            "false_hits_per_hit",
            "share_under_5s",
        ]
    ]
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _show(metric: str, value: float) -> str:
    if metric == "throughput_ratio":
        return f"{value:.2f}x"
    return f"{value:.1%}"
