"""``LatencyProxy``: make a local database feel remote, with a configurable round-trip time.

A TCP proxy on the loopback interface, between a client and an upstream server (a TCP
address or a Unix socket such as the embedded PostgreSQL's). Every chunk of bytes is
held for half the round-trip time (``rtt / 2``) in each direction, in order, without
limiting bandwidth: the time a conversation takes then grows with the number of times
the two sides wait for each other, just as it does over a real network.

A fresh PostgreSQL connection is a conversation of a few round trips: the TCP handshake
(modelled here: a new connection's first bytes wait ``handshake_rtts`` extra round
trips), the SSL request the client sends first (``sslmode=prefer``), and the startup
message with its authentication reply. With trust authentication that is 3 round trips,
so the default ``rtt`` of 50 ms makes a fresh connection cost about 150 ms, the guide's
figure; ``stats().round_trips`` counts them. A pooled connection pays none of it.

Use it from synchronous code (it runs its own event loop in a thread):

    with LatencyProxy.for_url(url, rtt=0.05) as proxy:
        conn = psycopg.connect(proxy.url)

or from asyncio code (a notebook cell with top-level ``await``):

    async with LatencyProxy.for_url(url) as proxy:
        conn = await psycopg.AsyncConnection.connect(proxy.url)
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_RTT", "LatencyProxy", "ProxyStats"]

DEFAULT_RTT = 0.050
"""Seconds: 3 round trips (TCP handshake, SSL request, startup) make a fresh connection 150 ms."""

_CHUNK = 65536


@dataclass(frozen=True)
class ProxyStats:
    """What the proxy has carried.

    Attributes:
        connections: connections accepted since start.
        open_connections: connections open now.
        bytes_to_server: bytes forwarded client -> upstream.
        bytes_to_client: bytes forwarded upstream -> client.
        round_trips: times a client spoke after hearing from the server (or first), each
            costing one ``rtt``; plus the modelled TCP handshakes.
    """

    connections: int
    open_connections: int
    bytes_to_server: int
    bytes_to_client: int
    round_trips: int


class _Conversation:
    """Who spoke last on one connection, to count round trips."""

    def __init__(self) -> None:
        self.last = "server"


class LatencyProxy:
    """A loopback TCP proxy that delays each direction by ``rtt / 2``.

    Args:
        upstream: ``(host, port)`` or the path of a Unix socket.
        rtt: round-trip time to add, in seconds.
        handshake_rtts: extra round trips a new connection's first bytes wait, standing
            in for the TCP handshake the client's local ``connect()`` skips (0 to turn off).
        host: where to listen; must be a loopback address.
        port: where to listen; 0 picks a free port.

    Raises:
        ValueError: a negative delay, or a host that is not loopback.
    """

    def __init__(
        self,
        upstream: tuple[str, int] | str,
        *,
        rtt: float = DEFAULT_RTT,
        handshake_rtts: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if rtt < 0 or handshake_rtts < 0:
            raise ValueError(f"rtt ({rtt}) and handshake_rtts ({handshake_rtts}) must be >= 0")
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(
                f"the proxy listens on loopback only; {host!r} is not a loopback address"
            )
        self.upstream = upstream
        self.rtt = float(rtt)
        self.handshake_rtts = handshake_rtts
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections = 0
        self._open = 0
        self._up = 0
        self._down = 0
        self._round_trips = 0
        self._db_url: str | None = None

    @classmethod
    def for_url(cls, url: str, **kwargs: Any) -> LatencyProxy:
        """A proxy in front of the PostgreSQL server that ``url`` points at.

        ``proxy.url`` is then the same URL routed through the proxy.
        """
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(url)
        host = str(params.get("host") or "localhost")
        port = int(str(params.get("port") or 5432))
        upstream: tuple[str, int] | str = (
            f"{host}/.s.PGSQL.{port}" if host.startswith("/") else (host, port)
        )
        proxy = cls(upstream, **kwargs)
        proxy._db_url = url
        return proxy

    @property
    def url(self) -> str:
        """The database URL given to ``for_url``, pointed at the proxy (a key=value conninfo)."""
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        if self._db_url is None:
            raise RuntimeError("url is known only for proxies made with LatencyProxy.for_url")
        if self._server is None:
            raise RuntimeError("start the proxy first (use it in a `with` or `async with` block)")
        params = conninfo_to_dict(self._db_url)
        params.pop("hostaddr", None)
        params.update(host=self.host, port=str(self.port))
        return make_conninfo("", **params)

    # -- asyncio ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (on the running loop); ``self.port`` is the bound port afterwards."""
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> LatencyProxy:  # noqa: PYI034 - Self needs Python 3.11
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _open_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self.upstream, str):
            return await asyncio.open_unix_connection(self.upstream)
        return await asyncio.open_connection(*self.upstream)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._connections += 1
        self._open += 1
        loop = asyncio.get_running_loop()
        # The client's local connect() returned at once; its bytes wait out the handshake.
        ready_at = loop.time() + self.handshake_rtts * self.rtt
        self._round_trips += self.handshake_rtts
        talk = _Conversation()
        try:
            server_r, server_w = await self._open_upstream()
        except OSError:
            client_w.close()
            self._open -= 1
            self._tasks.discard(task)
            return
        try:
            await asyncio.gather(
                self._pipe(client_r, server_w, ready_at, talk, to_server=True),
                self._pipe(server_r, client_w, ready_at, talk, to_server=False),
            )
        except (asyncio.CancelledError, ConnectionError):
            pass
        finally:
            for writer in (client_w, server_w):
                writer.close()
            self._open -= 1
            self._tasks.discard(task)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ready_at: float,
        talk: _Conversation,
        *,
        to_server: bool,
    ) -> None:
        """Copy ``reader`` to ``writer``, each chunk due ``rtt / 2`` after it was read."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        one_way = self.rtt / 2

        async def read() -> None:
            while data := await reader.read(_CHUNK):
                if to_server and talk.last == "server":
                    self._round_trips += 1
                talk.last = "client" if to_server else "server"
                queue.put_nowait((max(loop.time(), ready_at) + one_way, data))
            queue.put_nowait(None)

        async def deliver() -> None:
            while (item := await queue.get()) is not None:
                due, data = item
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                if to_server:
                    self._up += len(data)
                else:
                    self._down += len(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        await asyncio.gather(read(), deliver())

    # -- a thread of its own, for synchronous callers ----------------------------------

    def __enter__(self) -> LatencyProxy:  # noqa: PYI034 - Self needs Python 3.11
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="perflab-latency-proxy", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._thread = None

    def stats(self) -> ProxyStats:
        """Connections, bytes and round trips so far."""
        return ProxyStats(self._connections, self._open, self._up, self._down, self._round_trips)

    def __repr__(self) -> str:
        upstream = (
            self.upstream
            if isinstance(self.upstream, str)
            else f"{self.upstream[0]}:{self.upstream[1]}"
        )
        where = f"{self.host}:{self.port}" if self._server is not None else "stopped"
        return f"<LatencyProxy {where} -> {upstream} [rtt {self.rtt * 1000:.1f} ms, {self._open} open]>"
