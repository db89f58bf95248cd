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
learner's. Each notebook runs once per seed (default: two seeds), so a pasted number fails.

examples:
  perflab check exercises/03_cache_economics.ipynb
  perflab check submissions/ --workers 4 --csv results.csv
  perflab check my.ipynb --seed 1 --seed 2 --seed 3 --timeout 30 --junit report.xml
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
        help="a seed to run with (repeat for several; default 1234 and 98765)",
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
    parser.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    """Run ``perflab check``; returns the exit code."""
    try:
        import nbformat  # noqa: F401
        import papermill  # noqa: F401
    except ImportError as exc:
        print(f"perflab check needs papermill and nbformat: {exc}", file=sys.stderr)
        return 2
    from perflab.grading import results
    from perflab.grading.runner import DEFAULT_SEEDS, CheckOptions, check_paths, collect

    bad = [f"--workers must be >= 1, got {args.workers}"] if args.workers < 1 else []
    for flag, value in (("--timeout", args.timeout), ("--run-cap", args.run_cap)):
        if value is not None and not 0 < value < math.inf:  # also refuses nan
            bad.append(f"{flag} must be a number of seconds > 0, got {value:g}")
    if bad:
        print("perflab check: " + "; ".join(bad), file=sys.stderr)
        return 2
    items = collect(args.paths)
    if not items:
        print(f"no notebooks found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    options = CheckOptions(
        seeds=tuple(dict.fromkeys(args.seeds or DEFAULT_SEEDS)),
        timeout_s=args.timeout,
        run_cap_s=args.run_cap,
    )
    reports = check_paths(args.paths, options, workers=args.workers, progress=len(items) > 1)
    if args.json:
        print(results.to_json(reports))
    else:
        print(results.format_table(reports))
        for flag, render in ((args.csv, results.to_csv), (args.junit, results.to_junit)):
            if flag:
                Path(flag).write_text(render(reports), encoding="utf-8")
                print(f"wrote {flag}")
    return results.exit_code(reports)
