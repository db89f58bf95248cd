"""``perflab course``: the lessons in order, beside your progress (``--json`` for data)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["handler", "register"]


def register(subparsers: Any) -> None:
    """Add the ``course`` command to the ``perflab`` parser."""
    parser = subparsers.add_parser(
        "course",
        help="the lessons in order, with your exercise checks and predictions",
        description="Print the course outline (from the notebooks' metadata) in order, with "
        "the last `perflab check` of each exercise and the predictions you made.",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the outline as JSON (docs/course.md)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="read the outline from this curriculum folder (default: the copy of the course "
        "the current folder is in, else the installed one)",
    )
    parser.set_defaults(func=handler)


def _copy_here() -> Path | None:
    """The learner's copy of the course the shell is in (``perflab lab`` makes it), if any."""
    try:
        from perflab.curriculum import find_copy
    except ImportError:
        return None
    return find_copy(Path.cwd())


def handler(args: argparse.Namespace) -> int:
    """Run ``perflab course``; returns the exit code."""
    from perflab.course.outline import load_outline
    from perflab.course.report import course_data, format_course, load_learner

    outline = load_outline(args.root or _copy_here())  # an OutlineError: one line, exit 2
    learner = load_learner()
    data = course_data(outline, learner)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(format_course(data, learner.note))
    return 0
