"""``perflab config show | profiles``: the effective settings and where each came from.

Secrets (API keys, DATABASE_URL) are shown only as set or not set: never their value,
their length or their first characters.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.config import Settings

__all__ = ["register", "setting_rows"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``config`` and its sub-verbs."""
    config = subparsers.add_parser(
        "config",
        help="show the effective settings and the profiles",
        description="Settings come from (strongest first) the environment, the .env file in "
        "the current folder, the profile named by PERFLAB_PROFILE, and the defaults.",
    )
    config.set_defaults(func=lambda args: _usage(config))
    verbs = config.add_subparsers(title="config verbs", dest="config_verb", metavar="VERB")

    show = verbs.add_parser(
        "show",
        help="every setting, its value and where it came from (secrets masked)",
        description="Print every setting's variable name, effective value and source "
        "(default, profile NAME, environment, .env, override). Secrets show only whether "
        "they are set.",
    )
    show.add_argument(
        "--profile", metavar="NAME", help="show the settings as they would be with this profile"
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_show)

    profiles = verbs.add_parser(
        "profiles",
        help="the profiles and the values each sets",
        description="List the profiles (PERFLAB_PROFILE): the guide's three scenarios and dev/prod.",
    )
    profiles.add_argument("--json", action="store_true", help="print JSON")
    profiles.set_defaults(func=_profiles)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def setting_rows(settings: Settings) -> list[dict[str, Any]]:
    """One row per setting: ``variable``, ``value`` (secrets masked), ``source``.

    ``PERFLAB_DATA_DIR`` and ``PERFLAB_CACHE_PATH`` show the effective path even when
    unset, so a learner sees where the cache file really is.
    """
    from perflab.config import SECRET_FIELDS, env_name, mask
    from perflab.paths import data_dir, default_cache_path

    sources = settings.sources
    rows: list[dict[str, Any]] = []
    for field in type(settings).model_fields:
        value: Any = getattr(settings, field)
        if field in SECRET_FIELDS:
            value = mask(value)
        elif field == "perflab_data_dir":
            value = str(data_dir(settings))
        elif field == "perflab_cache_path":
            value = (
                str(default_cache_path(settings))
                if settings.perflab_cache_backend == "sqlite"
                else value
            )
        if hasattr(value, "__fspath__"):
            value = str(value)
        rows.append({"variable": env_name(field), "value": value, "source": sources[field]})
    return rows


def _text(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _show(args: argparse.Namespace) -> int:
    from perflab.cli import load_cli_settings
    from perflab.config import PROFILE_NOTES

    settings = load_cli_settings(args)
    rows = setting_rows(settings)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    profile = settings.perflab_profile
    header = (
        f"profile: {profile} ({PROFILE_NOTES[profile]})" if profile else "profile: none (defaults)"
    )
    print(header)
    width = max(len(row["variable"]) for row in rows)
    vwidth = min(40, max(len(_text(row["value"])) for row in rows))
    for row in rows:
        print(f"{row['variable']:<{width}}  {_text(row['value']):<{vwidth}}  {row['source']}")
    return 0


def _profiles(args: argparse.Namespace) -> int:
    from perflab.config import PROFILE_NOTES, PROFILES, env_name

    if args.json:
        print(
            json.dumps(
                {
                    name: {env_name(k): v for k, v in values.items()}
                    for name, values in PROFILES.items()
                },
                indent=2,
            )
        )
        return 0
    for name, values in PROFILES.items():
        print(f"{name}: {PROFILE_NOTES[name]}")
        for field, value in values.items():
            print(f"    {env_name(field)}={value}")
    print("\nPick one with PERFLAB_PROFILE=NAME; variables you set yourself override it.")
    return 0
