"""``perflab cache stats | query | warm | clear | cleanup``: look inside the semantic cache.

The guide's exercise, verbatim: run ``python main.py cache stats`` before and after
lowering CACHE_SIMILARITY_THRESHOLD by 0.1. ``stats`` shows the threshold in force and
where it came from, and replays the lookup log (the last 10,000 lookups) at that
threshold: hit rate and false-hit rate, next to the ones recorded. ``warm`` gives a
fresh cache that history (a seeded, simulated workload; no API is called); ``query``
shows, for one text, how similar the nearest entries are.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.cache import LoggedLookup, SemanticCache
    from perflab.config import Settings

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cache`` and its sub-verbs."""
    cache = subparsers.add_parser(
        "cache",
        help="inspect and maintain the semantic cache",
        description="Inspect and maintain the semantic cache configured by PERFLAB_CACHE_BACKEND "
        "(default: a SQLite file in the data folder, PERFLAB_CACHE_PATH to change it).",
    )
    cache.set_defaults(func=lambda args: _usage(cache))
    verbs = cache.add_subparsers(title="cache verbs", dest="cache_verb", metavar="VERB")

    stats = verbs.add_parser(
        "stats",
        help="entries, hits, misses, hit rate, stale entries, savings, threshold replay",
        description="Show the cache's contents and counters. The counters are kept in the "
        "cache itself, so they add up over every program that used it. Then replay the "
        "lookup log (the last lookups, with their best similarity) at the threshold in "
        "force: the hit rate and false-hit rate CACHE_SIMILARITY_THRESHOLD would give, "
        "next to the recorded ones.",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.set_defaults(func=_stats)

    query = verbs.add_parser(
        "query",
        help="the entries nearest to TEXT and their similarity",
        description="Embed TEXT and list the nearest entries with their cosine similarity "
        "and whether the threshold in force would make each a hit. Reads no cached "
        "answer and counts no lookup.",
    )
    query.add_argument("text", metavar="TEXT", help="the query to look up")
    query.add_argument(
        "-k", type=_positive_int, default=5, metavar="N", help="how many entries (default 5)"
    )
    query.add_argument("--include-stale", action="store_true", help="also list expired entries")
    query.add_argument("--json", action="store_true", help="print JSON")
    query.set_defaults(func=_query)

    warm = verbs.add_parser(
        "warm",
        help="replay a simulated keyword workload through the cache (no API is called)",
        description="Look up a seeded workload of keywords from the shipped catalogue "
        "(intents with paraphrases and look-alike hard negatives, Zipf popularity) in the "
        "configured cache, with the configured embedder and threshold. A miss stores a "
        "placeholder answer labelled simulated: no search or LLM API is called. Afterwards "
        "`cache stats` has lookups to replay; `cache clear` removes the entries.",
    )
    warm.add_argument(
        "--requests", type=_positive_int, default=500, metavar="N", help="lookups (default 500)"
    )
    warm.add_argument("--seed", type=int, default=0, metavar="S", help="workload seed (default 0)")
    warm.add_argument(
        "--zipf",
        type=_non_negative_float,
        default=1.0,
        metavar="A",
        help="Zipf exponent of intent popularity (0 uniform; default 1.0)",
    )
    warm.set_defaults(func=_warm)

    clear = verbs.add_parser(
        "clear",
        help="delete every entry (asks first; --yes to skip)",
        description="Delete every cache entry, for every embedder. Counters are kept. Asks "
        "for confirmation when run interactively; elsewhere it needs --yes.",
    )
    clear.add_argument("-y", "--yes", action="store_true", help="do not ask")
    clear.set_defaults(func=_clear)

    cleanup = verbs.add_parser(
        "cleanup",
        help="delete expired entries (older than CACHE_TTL_DAYS)",
        description="Delete the entries whose time to live (CACHE_TTL_DAYS) has run out: the "
        "guide's 'regular cleanup' against a cache full of stale entries.",
    )
    cleanup.set_defaults(func=_cleanup)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _open(settings: Settings) -> SemanticCache:
    from perflab.compose import open_cache

    return open_cache(settings)


def _where(settings: Settings) -> str:
    """A readable name for the store: the file, or the backend."""
    from perflab.paths import default_cache_path

    backend = settings.perflab_cache_backend
    if backend == "sqlite":
        return str(default_cache_path(settings))
    if backend == "memory":
        return "memory (PERFLAB_CACHE_BACKEND=memory keeps nothing between runs)"
    return (
        f"{backend} (DATABASE_URL)" if settings.database_url else f"{backend} (embedded PostgreSQL)"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _stats(args: argparse.Namespace) -> int:
    from perflab.cli import load_cli_settings

    settings = load_cli_settings(args)
    source = settings.sources["cache_similarity_threshold"]
    with _open(settings) as cache:
        stats = cache.stats()
        api_cost, api_time = cache.api_cost_usd, cache.api_time_s
        log = cache.lookup_log() if cache.has_lookup_log else None
        log_size = getattr(cache.store, "log_size", None)
    if args.json:
        payload: dict[str, Any] = {
            "store": _where(settings),
            "backend": settings.perflab_cache_backend,
            **stats.as_dict(),
            "threshold_source": source,
            "ttl_days": settings.cache_ttl_days,
            "lookup_log": _replay_json(log, log_size, stats.threshold),
        }
        print(json.dumps(payload, indent=2, sort_keys=False))
        return 0
    rows = [
        ("store", _where(settings)),
        ("size on disk", _size(stats.bytes) if settings.perflab_cache_backend == "sqlite" else "-"),
        ("embedder", stats.namespace),
        ("threshold", f"{stats.threshold:.2f} (CACHE_SIMILARITY_THRESHOLD, {source})"),
        ("ttl", f"{settings.cache_ttl_days:g} days (CACHE_TTL_DAYS)"),
        ("entries", f"{stats.entries}"),
        (
            "stale entries",
            f"{stats.stale_entries}"
            + ("  -> `perflab cache cleanup`" if stats.stale_entries else ""),
        ),
        ("lookups", f"{stats.lookups}"),
        ("hits", f"{stats.hits}"),
        ("misses", f"{stats.misses}"),
        ("hit rate", f"{stats.hit_rate:.1%}" if stats.lookups else "- (no lookups yet)"),
    ]
    if stats.audited_hits:
        rows.append(("false hits", f"{stats.false_hits} of {stats.audited_hits} audited hits"))
        rows.append(("precision", f"{stats.precision:.1%}" if stats.precision is not None else "-"))
    rows.append(
        (
            "est. savings",
            (
                f"${stats.est_cost_saved_usd:,.2f} and {stats.est_time_saved_s:,.1f} s "
                f"(each hit saves ${api_cost:g} and {api_time:g} s; every lookup pays an embedding)"
            ),
        )
    )
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print()
    for line in _replay_lines(log, stats.threshold, settings.perflab_cache_backend):
        print(line)
    return 0


def _query(args: argparse.Namespace) -> int:
    from perflab.cli import load_cli_settings

    settings = load_cli_settings(args)
    with _open(settings) as cache:
        neighbours = cache.nearest(args.text, k=args.k, include_stale=args.include_stale)
        threshold, namespace = cache.threshold, cache.namespace
        now = cache.clock.now()
    if args.json:
        rows = [
            {
                "rank": rank,
                "similarity": round(n.similarity, 6),
                "would_hit": n.similarity >= threshold and n.expires_at > now,
                "stale": n.expires_at <= now,
                "query": n.query,
                "intent": n.intent,
            }
            for rank, n in enumerate(neighbours, 1)
        ]
        print(
            json.dumps(
                {
                    "query": args.text,
                    "threshold": threshold,
                    "embedder": namespace,
                    "nearest": rows,
                },
                indent=2,
            )
        )
        return 0
    source = settings.sources["cache_similarity_threshold"]
    print(f"query      {args.text!r}")
    print(
        f"threshold  {threshold:.2f} (CACHE_SIMILARITY_THRESHOLD, {source}); embedder {namespace}"
    )
    if not neighbours:
        print("no entries to compare with: the cache is empty for this embedder")
        return 0
    print(f"{'#':>2}  {'similarity':>10}  {'hit?':<5}  cached query")
    for rank, n in enumerate(neighbours, 1):
        stale = n.expires_at <= now
        verdict = "stale" if stale else ("yes" if n.similarity >= threshold else "no")
        print(f"{rank:>2}  {n.similarity:>10.3f}  {verdict:<5}  {n.query}")
    best = neighbours[0].similarity
    if best < threshold:
        print(f"miss: the nearest entry is {threshold - best:.3f} below the threshold")
    return 0


def _clear(args: argparse.Namespace) -> int:
    from perflab.cli import fail, load_cli_settings

    settings = load_cli_settings(args)
    where = _where(settings)
    if not args.yes:
        if not sys.stdin.isatty():
            return fail("refusing to clear the cache without --yes when not run interactively")
        answer = input(f"Delete every entry in {where}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    with _open(settings) as cache:
        deleted = cache.clear(all_namespaces=True)
    print(f"deleted {deleted} entries from {where} (counters kept)")
    return 0


def _cleanup(args: argparse.Namespace) -> int:
    from perflab.cli import load_cli_settings

    settings = load_cli_settings(args)
    with _open(settings) as cache:
        removed = cache.cleanup()
        left = cache.stats().entries
    print(f"removed {removed} expired entries; {left} entries left ({_where(settings)})")
    return 0


def _replay_label(n: int) -> str:
    return f"replayed from the last {n} lookups"


def _replay_json(
    log: list[LoggedLookup] | None, log_size: int | None, threshold: float
) -> dict[str, Any] | None:
    """The ``lookup_log`` member of ``stats --json`` (``None``: the store keeps no log)."""
    if log is None:
        return None
    from perflab.cache.replay import as_recorded, replay

    return {
        "label": _replay_label(len(log)),
        "kept": log_size,
        "lookups": len(log),
        "recorded": as_recorded(log).as_dict(),
        "replayed": replay(log, threshold).as_dict(),
    }


def _pct(part: int, whole: int) -> str:
    return f"{part} ({part / whole:.1%})" if whole else f"{part}"


def _replay_lines(log: list[LoggedLookup] | None, threshold: float, backend: str) -> list[str]:
    """The text report's replay block: recorded vs replayed at the threshold in force."""
    if log is None:
        return [f"lookup log     not kept by the {backend} backend: nothing to replay"]
    if not log:
        warm = "`python main.py cache warm` runs a simulated workload (no API is called);"
        then = "then run `cache stats` before and after changing CACHE_SIMILARITY_THRESHOLD"
        return [f"lookup log     empty: {warm}", f"{'':15}{then}"]
    from perflab.cache.replay import as_recorded, false_hits_at, replay

    was, now = as_recorded(log), replay(log, threshold)
    logged_at = (
        f"{was.threshold:.2f}"
        if was.threshold is not None
        else f"{was.thresholds[0]:.2f}-{was.thresholds[-1]:.2f}"
    )
    head_was, head_now = f"as logged at {logged_at}", f"replayed at {threshold:.2f}"
    w1, w2 = max(len(head_was), 14), max(len(head_now), 14)
    lines = [
        f"{_replay_label(len(log))} (CACHE_SIMILARITY_THRESHOLD now {threshold:.2f}):",
        f"  {'':<10}  {head_was:>{w1}}  {head_now:>{w2}}",
        f"  {'hits':<10}  {_pct(was.hits, was.lookups):>{w1}}  {_pct(now.hits, now.lookups):>{w2}}",
    ]
    if now.audited:
        lines.append(
            f"  {'false hits':<10}  {_pct(was.false_hits, was.audited):>{w1}}  "
            f"{_pct(now.false_hits, now.audited):>{w2}}"
            f"  of {now.audited} lookups with known intents"
        )
        seen: set[str] = set()
        for r in false_hits_at(log, threshold):
            if r.query not in seen and len(seen) < 3:
                seen.add(r.query)
                lines.append(
                    f"  e.g. {r.query!r} ({r.intent}) would get an answer for "
                    f"{r.matched_intent} (similarity {r.similarity:.3f})"
                )
    else:
        lines.append("  false hits  - (no intents logged: `cache warm` logs them)")
    lines.append(
        "  (a replay keeps each lookup's nearest entry; see docs/cache.md, the lookup log)"
    )
    return lines


def _warm(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from perflab.cache.warm import warm_cache
    from perflab.cli import load_cli_settings
    from perflab.sim.workload import Workload

    settings = load_cli_settings(args)
    requests = Workload(requests=args.requests, zipf_s=args.zipf).build(args.seed)
    with _open(settings) as cache:
        if cache.namespace.startswith("openai/"):
            print(
                f"note: the embedder {cache.namespace} is remote: embedding the "
                f"{len({r.query for r in requests})} distinct queries calls its API",
                file=sys.stderr,
            )
        with tqdm(
            total=len(requests),
            desc="cache warm",
            unit="req",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            leave=False,
        ) as bar:
            summary = warm_cache(
                cache, [(r.query, r.intent) for r in requests], progress=bar.update
            )
    print(
        f"warmed {summary.namespace} at threshold {summary.threshold:.2f} with "
        f"{summary.requests} simulated requests (seed {args.seed}, zipf {args.zipf:g}): "
        f"{summary.hits} hits ({summary.hit_rate:.1%}), {summary.false_hits} false; "
        f"{summary.misses} misses stored placeholder answers labelled simulated "
        "(no API was called). Next: `python main.py cache stats`"
    )
    return 0
