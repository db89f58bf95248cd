"""The ``perflab`` command (also ``python -m perflab`` and, in a checkout, ``python main.py``).

Each verb lives in its own module, ``perflab.cli.<verb>``, which exposes
``register(subparsers)``: it adds its parser(s) and sets ``func=handler``, where
``handler(args) -> int`` returns the exit code. Modules import only argparse at the
top; anything heavier (numpy, pydantic, pandas, drivers) is imported inside the
handler, so ``perflab --help`` starts in a blink.

Errors perflab raises on purpose (``PerflabError``) print one line,
``perflab: error: ...``, and exit with code 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perflab.config import Settings

__all__ = ["VERB_MODULES", "build_parser", "fail", "load_cli_settings", "main"]

#: The modules that contribute verbs, in the order ``--help`` lists them
#: (``lab`` adds both ``lab`` and ``reset``).
VERB_MODULES = ("lab", "cache", "config", "doctor", "sim", "check", "db", "site", "course")


def build_parser() -> argparse.ArgumentParser:
    """The full ``perflab`` parser, with every verb registered."""
    from perflab import __version__

    parser = argparse.ArgumentParser(
        prog="perflab",
        description="perflab: learn performance tuning by measuring.",
        epilog="Run `perflab VERB --help` for a verb's options. Settings come from the "
        "environment and .env (see `perflab config show`).",
    )
    parser.add_argument("--version", action="version", version=f"perflab {__version__}")
    subparsers = parser.add_subparsers(title="verbs", dest="verb", metavar="VERB")
    for name in VERB_MODULES:
        module = importlib.import_module(f"perflab.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 a check failed, 2 an error).

    Args:
        argv: the arguments after the program name; ``None`` reads ``sys.argv``.
    """
    from perflab.errors import PerflabError

    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 0 if args.verb is None else 2
    try:
        code: int = handler(args)
    except PerflabError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # `perflab config show | head`
        sys.stderr.close()
        return 0
    return code


def fail(message: str) -> int:
    """Print ``perflab: error: MESSAGE`` (one line) to stderr and return exit code 2."""
    print(f"perflab: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


def load_cli_settings(args: argparse.Namespace | None = None) -> Settings:
    """The settings a verb runs with: environment, ``.env``, profile.

    Verbs that take ``--profile`` pass it through ``args.profile``. Raises
    ``ConfigError`` (printed as one line by ``main``) when a value is not allowed.
    """
    from perflab.config import load_settings

    profile = getattr(args, "profile", None) if args is not None else None
    return load_settings(profile=profile)
