"""``perflab check``: run exercise notebooks in fresh kernels and grade their checks.

Exit codes: 0 every check passed, 1 an exercise did not pass, 2 the grader could not
run (no kernel, not a notebook, bad arguments).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

__all__ = ["handler", "register"]

_EPILOG = """\
A folder is a folder of submissions: each notebook in it, and each sub-folder, is one
learner's. Each notebook runs once per seed: by default one seed, drawn afresh on every
run (shown in the results), so no table of answers can know it and a pasted number fails.
--seeds N draws N fresh seeds (each costs one more run per notebook); --seed gives them.

examples:
  perflab check exercises/03_cache_economics.ipynb
  perflab check submissions/ --workers 4 --csv results.csv
  perflab check my.ipynb --seed 1 --seed 2 --seed 3 --timeout 30 --junit report.xml
  perflab check room/ --workers 4 --csv results.csv --html report.html

a room in shards (each on its own machine), then one merge:
  perflab check room/ --seed 11 --seed 12 --shard 1/3 --json > shard-1.json
  perflab check merge shard-*.json --csv results.csv --html report.html
"""


def register(subparsers: Any) -> None:
    """Add the ``check`` command to the ``perflab`` parser."""
    parser = subparsers.add_parser(
        "check",
        help="run exercise notebooks and grade their checks",
        description="Run exercise notebooks with papermill in fresh kernels and grade "
        "every exercise. Your notebook file is only read, never changed.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="NOTEBOOK_OR_FOLDER")
    parser.add_argument(
        "--seed",
        type=int,
        action="append",
        dest="seeds",
        metavar="N",
        help="a seed to run with (repeat for several; default: one fresh random seed "
        "on every run, shown in the results)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        dest="seed_count",
        metavar="N",
        help="how many fresh random seeds to draw when no --seed is given (default 1; "
        "each one more run of every notebook)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="per-cell timeout in seconds (default 60)",
    )
    parser.add_argument(
        "--run-cap",
        type=float,
        default=None,
        metavar="S",
        help="cap on one whole run in seconds (default: a timeout per cell)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="notebooks checked at the same time (default 1)",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the results as JSON")
    out.add_argument("--csv", metavar="FILE", help="write a learner x exercise CSV")
    out.add_argument("--junit", metavar="FILE", help="write JUnit XML (for CI)")
    parser.add_argument(
        "--html", metavar="FILE", help="write a self-contained HTML report of the room"
    )
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="grade only share K of N of the room (1/N is the first; by learner/notebook "
        "name, stable); give the same --seed to every shard, then `perflab check merge`",
    )
    # --- grading security (issue 9): which exercise a file must be, and its references
    parser.add_argument(
        "--expect",
        metavar="ID",
        help="the exercise every notebook given must be (its metadata.perflab.id, e.g. "
        "03_cache_economics); a notebook holding another is refused",
    )
    parser.add_argument(
        "--references",
        metavar="FOLDER",
        action="append",
        type=Path,
        help="a folder of reference solutions to grade against (repeatable; default: the "
        "installed solutions/)",
    )
    parser.set_defaults(func=handler)


def _write_outputs(args: argparse.Namespace, reports: list[Any], json_text: str) -> None:
    """Print the table (or the JSON) and write the files the flags ask for."""
    from perflab.grading import results

    if args.json:
        print(json_text)
    else:
        print(results.format_table(reports))
    files = [(args.csv, results.to_csv), (args.junit, results.to_junit)]
    if args.html:
        from perflab.grading.report_html import to_html

        files.append((args.html, to_html))
    for flag, render in files:
        if flag:
            Path(flag).write_text(render(reports), encoding="utf-8")
            print(f"wrote {flag}", file=sys.stderr if args.json else sys.stdout)


def _merge(args: argparse.Namespace) -> int:
    """``perflab check merge SHARD.json...``: one room's outputs from its shards' JSON."""
    from perflab.grading import results
    from perflab.grading.shard import ShardError, merge_json

    if args.shard:
        print("perflab check merge: --shard makes no sense when merging", file=sys.stderr)
        return 2
    texts: dict[str, str] = {}
    for name in args.paths[1:]:
        try:
            texts[name] = Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"perflab check merge: can't read {name}: {exc.strerror}", file=sys.stderr)
            return 2
    try:
        reports = merge_json(texts)
    except ShardError as exc:
        print(f"perflab check merge: {exc}", file=sys.stderr)
        return 2
    _write_outputs(args, reports, results.to_json(reports))
    return results.exit_code(reports)


def handler(args: argparse.Namespace) -> int:
    """Run ``perflab check``; returns the exit code."""
    if args.paths[0] == "merge":  # a room folder called merge is ./merge
        return _merge(args)
    from perflab.grading.kernel_pool import skip_slow_imports

    skip_slow_imports()  # before nbformat: a second of start-up this command never needs
    try:
        import nbformat  # noqa: F401
        import papermill  # noqa: F401
    except ImportError as exc:
        print(f"perflab check needs papermill and nbformat: {exc}", file=sys.stderr)
        return 2
    from perflab.grading import results
    from perflab.grading.runner import CheckOptions, check_paths, collect, fresh_seeds

    bad = [f"--workers must be >= 1, got {args.workers}"] if args.workers < 1 else []
    count = getattr(args, "seed_count", None)
    if count is not None and count < 1:
        bad.append(f"--seeds must be >= 1, got {count}")
    if count is not None and args.seeds:
        bad.append("give --seed or --seeds, not both")
    for flag, value in (("--timeout", args.timeout), ("--run-cap", args.run_cap)):
        if value is not None and not 0 < value < math.inf:  # also refuses nan
            bad.append(f"{flag} must be a number of seconds > 0, got {value:g}")
    if bad:
        print("perflab check: " + "; ".join(bad), file=sys.stderr)
        return 2
    # --- issue 11: a path that is not there says what was looked for and what was meant;
    # a notebook file says which saved version is graded (unsaved edits are not)
    from perflab.grading.self_check import not_found_message, saved_line

    missing = [p for p in args.paths if not Path(p).exists()]
    for name in missing:
        print(f"perflab check: {not_found_message(name)}", file=sys.stderr)
    if missing:
        return 2
    for name in args.paths:
        if Path(name).is_file():
            print(saved_line(Path(name)), file=sys.stderr if args.json else sys.stdout)
    items = collect(args.paths)
    if not items:
        print(f"no notebooks found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    shard = None
    if args.shard:
        from perflab.grading.shard import ShardError, parse_shard, select

        try:
            shard = parse_shard(args.shard)
        except ShardError as exc:
            print(f"perflab check: {exc}", file=sys.stderr)
            return 2
        if not args.seeds:  # each shard would draw its own fresh seeds
            print(
                "perflab check: --shard needs --seed: every shard of a room must run with "
                "the same seeds (pick new ones for each grading, e.g. --seed 4021 --seed 7752)",
                file=sys.stderr,
            )
            return 2
        items, positions, total = select(args.paths, shard, collect)
    options = CheckOptions(
        seeds=tuple(dict.fromkeys(args.seeds)) if args.seeds else fresh_seeds(count or 1),
        timeout_s=args.timeout,
        run_cap_s=args.run_cap,
        expect=getattr(args, "expect", None),
        reference_dirs=tuple(args.references) if getattr(args, "references", None) else None,
    )
    if shard is None:
        reports = check_paths(args.paths, options, workers=args.workers, progress=len(items) > 1)
        from perflab.course.progress import record_reports  # for `perflab course`

        record_reports(reports, args.paths)
        json_text = results.to_json(reports)
    else:
        from perflab.grading.runner import check_notebook, reference_jobs
        from perflab.grading.shard import check_items, shard_json

        reports = check_items(
            items,
            lambda nb, learner: check_notebook(nb, options, learner),
            args.workers,
            progress=len(items) > 1,
            first=reference_jobs(items, options),
        )
        json_text = shard_json(reports, shard, positions, total)
    _write_outputs(args, reports, json_text)
    if shard is not None and not reports:
        return 0  # a share of the room that happens to be empty: nothing failed
    return results.exit_code(reports)
