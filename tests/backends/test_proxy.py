"""The latency proxy: connections through it work, and it counts round trips."""

from __future__ import annotations

import asyncio

import pytest

from perflab.backends.proxy import DEFAULT_RTT, LatencyProxy


async def _echo_server() -> asyncio.Server:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1024):
            writer.write(data)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(echo, "127.0.0.1", 0)


def test_bytes_arrive_intact_and_in_order() -> None:
    """Everything a client sends comes back through the proxy unchanged, in order, and is counted."""

    async def main() -> tuple[bytes, int, int]:
        server = await _echo_server()
        port = server.sockets[0].getsockname()[1]
        async with LatencyProxy(("127.0.0.1", port), rtt=0.0) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            payload = b"".join(bytes([i % 256]) * 100 for i in range(300))
            writer.write(payload)
            await writer.drain()
            received = await reader.readexactly(len(payload))
            writer.close()
            stats = proxy.stats()
        server.close()
        assert received == payload
        return received, stats.bytes_to_server, stats.bytes_to_client

    received, up, down = asyncio.run(main())
    assert up == down == len(received)


def test_each_turn_of_the_conversation_is_a_round_trip() -> None:
    """Three request/reply exchanges count as three round trips, plus the modelled handshake."""

    async def main() -> int:
        server = await _echo_server()
        port = server.sockets[0].getsockname()[1]
        async with LatencyProxy(("127.0.0.1", port), rtt=0.0, handshake_rtts=1) as proxy:
            reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
            for word in (b"one", b"two", b"six"):
                writer.write(word)
                await writer.drain()
                assert await reader.readexactly(3) == word
            writer.close()
            trips = proxy.stats().round_trips
        server.close()
        return trips

    assert asyncio.run(main()) == 4


def test_only_loopback_addresses_are_accepted() -> None:
    """Listening on a non-loopback address is refused: the proxy must not expose the database."""
    with pytest.raises(ValueError, match="loopback"):
        LatencyProxy(("127.0.0.1", 5432), host="0.0.0.0")
    with pytest.raises(ValueError, match=">= 0"):
        LatencyProxy(("127.0.0.1", 5432), rtt=-1)


def test_default_rtt_makes_a_fresh_connection_cost_150_ms() -> None:
    """Three round trips (handshake, SSL request, startup) at the default RTT are the guide's 150 ms."""
    assert DEFAULT_RTT * 3 == pytest.approx(0.150)


@pytest.mark.postgres
def test_postgres_through_the_proxy_in_a_thread(pg_url: str) -> None:
    """A psycopg connection through the threaded proxy runs queries; a fresh connect is 3 round trips."""
    import psycopg

    if not pg_url.startswith("postgresql://postgres@/"):
        pytest.skip("round trips are counted for the embedded server (trust authentication)")
    with LatencyProxy.for_url(pg_url, rtt=0.002) as proxy:
        conn = psycopg.connect(proxy.url, autocommit=True)
        connect_trips = proxy.stats().round_trips
        assert conn.execute("select 40 + 2").fetchone() == (42,)
        assert proxy.stats().round_trips == connect_trips + 1
        conn.close()
        assert connect_trips == 3
        assert "127.0.0.1" in repr(proxy) and "rtt 2.0 ms" in repr(proxy)


@pytest.mark.postgres
def test_postgres_through_the_proxy_with_asyncio(pg_url: str) -> None:
    """An async psycopg connection works through the proxy on the caller's event loop."""
    import psycopg

    async def main() -> object:
        async with (
            LatencyProxy.for_url(pg_url, rtt=0.002) as proxy,
            await psycopg.AsyncConnection.connect(proxy.url) as conn,
        ):
            cur = await conn.execute("select 'through the proxy'")
            return await cur.fetchone()

    assert asyncio.run(main()) == ("through the proxy",)
