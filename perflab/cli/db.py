"""``perflab db``: the embedded PostgreSQL and the cache schema.

    perflab db start      start the embedded server (idempotent), print its URL
    perflab db stop       stop it
    perflab db status     what runs, which database perflab uses, pgvector's version
    perflab db url        the URL of the database perflab uses (password masked)
    perflab db migrate    apply perflab/sql/schema.sql (--print shows the SQL instead)

``DATABASE_URL`` (environment or ``.env``), when set, is the database perflab uses;
the embedded server is the default when it is not. Passwords are never printed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perflab.backends.embedded import EmbeddedPostgres

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add ``perflab db`` and its subcommands to the CLI."""
    db = subparsers.add_parser(
        "db",
        help="the embedded PostgreSQL (pgvector) and the cache schema",
        description="Start, stop and inspect the embedded PostgreSQL; apply the cache schema. "
        "DATABASE_URL, when set, is used instead of the embedded server.",
    )
    db.set_defaults(func=lambda args: _help(db))
    sub = db.add_subparsers(dest="db_command", metavar="{start,stop,status,url,migrate}")

    start = sub.add_parser("start", help="start the embedded server (idempotent)")
    start.set_defaults(func=_start)
    stop = sub.add_parser("stop", help="stop the embedded server")
    stop.set_defaults(func=_stop)
    status = sub.add_parser("status", help="what runs and which database perflab uses")
    status.set_defaults(func=_status)
    url = sub.add_parser("url", help="print the URL of the database perflab uses (password masked)")
    url.set_defaults(func=_url)
    migrate = sub.add_parser(
        "migrate", help="apply the cache schema (tables, indexes, match_cache_entries)"
    )
    migrate.add_argument(
        "--print",
        dest="print_sql",
        action="store_true",
        help="print the SQL (e.g. to paste into Supabase's SQL editor) instead of applying it",
    )
    migrate.add_argument(
        "--schema", default=None, help="create the tables in this schema (default: public)"
    )
    migrate.add_argument(
        "--start",
        action="store_true",
        help="start the embedded server first if DATABASE_URL is not set",
    )
    migrate.set_defaults(func=_migrate)
    for parser in (start, stop, status, url, migrate):
        parser.add_argument(
            "--pgdata",
            default=None,
            help="the embedded server's data folder (default: <perflab data folder>/postgres)",
        )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _configured_url() -> str | None:
    """DATABASE_URL from the environment or .env (a secret: unwrapped only to connect)."""
    from perflab.cli import load_cli_settings

    value = load_cli_settings().secret("database_url")
    if value is None or not value.strip():
        return None
    return value.strip()


def _fail(message: str) -> int:
    from perflab.cli import fail

    return fail(message)


def _server(args: argparse.Namespace) -> EmbeddedPostgres:
    from perflab.backends.embedded import EmbeddedPostgres, default_pgdata
    from perflab.cli import load_cli_settings

    return EmbeddedPostgres(args.pgdata or default_pgdata(load_cli_settings()))


def _start(args: argparse.Namespace) -> int:
    server = _server(args)
    was_running = server.status().running
    url = server.start()  # BackendUnavailable: main prints it as one line
    state = server.status()
    print(f"embedded PostgreSQL {'was already' if was_running else 'is'} running (pid {state.pid})")
    print(f"data: {server.pgdata}")
    print(f"url:  {url}")
    if _configured_url() is not None:
        print("note: DATABASE_URL is set, so perflab uses that database, not this one")
    else:
        print("next: `perflab db migrate` creates the cache tables")
    return 0


def _stop(args: argparse.Namespace) -> int:
    server = _server(args)
    if server.stop():
        print(f"embedded PostgreSQL stopped ({server.pgdata})")
    else:
        print(f"embedded PostgreSQL was not running ({server.pgdata})")
    return 0


def _status(args: argparse.Namespace) -> int:
    from perflab.backends.embedded import pgserver_problem, redact_url

    server = _server(args)
    state = server.status()
    problem = pgserver_problem()
    if problem is not None:
        print(f"embedded: unavailable ({problem})")
    elif state.running:
        print(f"embedded: running (pid {state.pid}), data in {state.pgdata}")
    else:
        made = "initialised" if state.initialised else "not created yet"
        print(
            f"embedded: stopped, data folder {state.pgdata} ({made}); `perflab db start` starts it"
        )
    in_use = _configured_url()
    if in_use is not None:
        print(f"in use:   DATABASE_URL = {redact_url(in_use)}")
    elif state.url is not None:
        in_use = state.url
        print(f"in use:   embedded, {in_use}")
    else:
        print("in use:   none (set DATABASE_URL, or run `perflab db start`)")
        return 1
    return _describe(in_use)


def _describe(url: str) -> int:
    """Connect once and report the server, pgvector and whether the schema is there."""
    import psycopg

    from perflab.backends.embedded import check_url

    check_url(url)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            version = conn.execute("show server_version").fetchone()
            vector = conn.execute(
                "select extversion from pg_extension where extname = 'vector'"
            ).fetchone()
            available = conn.execute(
                "select default_version from pg_available_extensions where name = 'vector'"
            ).fetchone()
            tables = conn.execute("select to_regclass('cache_entries') is not null").fetchone()
    except psycopg.Error as exc:
        return _fail(
            f"could not connect ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})"
        )
    print(f"server:   PostgreSQL {version[0] if version else '?'}")
    if vector is not None:
        print(f"pgvector: {vector[0]} (installed)")
    elif available is not None:
        print(
            f"pgvector: {available[0]} available, not installed yet (`perflab db migrate` installs it)"
        )
    else:
        print("pgvector: not available on this server")
    print(f"schema:   {'present' if tables and tables[0] else 'missing (`perflab db migrate`)'}")
    return 0


def _url(args: argparse.Namespace) -> int:
    from perflab.backends.embedded import redact_url, resolve_database_url

    url = resolve_database_url(_configured_url() or "", pgdata=_server(args).pgdata)
    print(redact_url(url))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from perflab.sql import schema_sql

    if args.print_sql:
        print(schema_sql(), end="")
        return 0
    import psycopg

    from perflab.backends.embedded import redact_url, resolve_database_url
    from perflab.backends.postgres import migrate

    url = resolve_database_url(
        _configured_url() or "", start=args.start, pgdata=_server(args).pgdata
    )
    try:
        migrate(url, schema=args.schema)
    except (psycopg.Error, ValueError) as exc:
        return _fail(f"migration failed ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})")
    where = f" (schema {args.schema})" if args.schema else ""
    print(
        f"schema applied to {redact_url(url)}{where}: cache_entries, cache_counters, match_cache_entries()"
    )
    return 0
