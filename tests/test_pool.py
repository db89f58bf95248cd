"""Tests for perflab.pool: the asyncio connection pool, on a virtual-time loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from perflab.clock import LoopClock
from perflab.errors import PoolClosed, PoolTimeout
from perflab.pool import ConnectionPool
from perflab.sim import run_virtual as run


class Conn:
    """A fake connection that knows whether it is open."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.healthy = True

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        return f"<Conn {self.number}>"


class FakeDB:
    """A connect factory taking `latency` seconds (virtual), that can be told to fail."""

    def __init__(self, latency: float = 0.15, max_live: int | None = None) -> None:
        self.latency = latency
        self.max_live = max_live
        self.made: list[Conn] = []
        self.fail_next = 0

    @property
    def live(self) -> list[Conn]:
        return [c for c in self.made if not c.closed]

    async def connect(self) -> Conn:
        await asyncio.sleep(self.latency)
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionRefusedError("db down")
        conn = Conn(len(self.made))
        self.made.append(conn)
        if self.max_live is not None:
            assert len(self.live) <= self.max_live, "more connections open than max_size"
        return conn


def make_pool(db: FakeDB, **kwargs: Any) -> ConnectionPool[Conn]:
    kwargs.setdefault("clock", LoopClock())
    return ConnectionPool(db.connect, **kwargs)


def now() -> float:
    return asyncio.get_running_loop().time()


def test_open_warms_up_min_size() -> None:
    """open() makes min_size connections before returning."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=2) as pool:
            assert len(db.made) == 2
            stats = pool.stats()
            assert (stats.created, stats.idle, stats.in_use) == (2, 2, 0)

    run(main())


def test_borrows_reuse_connections() -> None:
    """Sequential borrows reuse the warm connections: no new connection, no wait."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db) as pool:
            for _ in range(5):
                async with pool.connection() as conn:
                    assert not conn.closed
            stats = pool.stats()
            assert (stats.created, stats.reused, stats.borrows) == (2, 5, 5)
            assert stats.pool_wait_p95_s == 0.0
            assert pool.wait_times.count == 5

    run(main())


def test_grows_to_max_size_and_no_further() -> None:
    """Under load the pool opens connections up to max_size; others wait in line."""

    async def main() -> None:
        db = FakeDB(max_live=4)
        async with make_pool(db, min_size=1, max_size=4) as pool:
            peak = 0

            async def work() -> None:
                nonlocal peak
                async with pool.connection():
                    peak = max(peak, pool.stats().in_use)
                    await asyncio.sleep(1.0)

            await asyncio.gather(*(work() for _ in range(12)))
            stats = pool.stats()
            assert peak == 4
            assert stats.created == 4
            assert stats.borrows == 12
            assert stats.reused == 12 - 3  # three borrows waited for a new connection
            assert stats.pool_wait_p95_s > 1.0

    run(main())


def test_timeout_raises_pool_timeout_with_the_fix() -> None:
    """A borrower gives up after `timeout` seconds with a message giving the numbers and the fix."""

    async def main() -> None:
        async with make_pool(FakeDB(), min_size=1, max_size=1, timeout=2.5) as pool:
            async with pool.connection():
                start = now()
                with pytest.raises(PoolTimeout, match=r"after 2\.50 sec.*raise max_size"):
                    await pool.acquire()
                assert now() - start == pytest.approx(2.5)
                assert pool.stats().timeouts == 1
            assert pool.stats().waiting == 0

    run(main())


def test_waiters_are_served_first_in_first_out() -> None:
    """A returned connection goes to the borrower who has waited longest."""

    async def main() -> list[int]:
        order: list[int] = []
        async with make_pool(FakeDB(), min_size=1, max_size=1) as pool:

            async def work(i: int) -> None:
                async with pool.connection():
                    order.append(i)
                    await asyncio.sleep(0.5)

            tasks = []
            for i in range(6):
                tasks.append(asyncio.create_task(work(i)))
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks)
        return order

    assert run(main()) == [0, 1, 2, 3, 4, 5]


def test_failed_health_check_discards_and_replaces() -> None:
    """A connection failing the check on borrow is closed and a new one is lent instead."""

    async def main() -> None:
        db = FakeDB()

        async def check(conn: Conn) -> bool:
            return conn.healthy

        async with make_pool(db, min_size=1, max_size=2, check=check) as pool:
            db.made[0].healthy = False
            async with pool.connection() as conn:
                assert conn.number == 1
            assert db.made[0].closed
            stats = pool.stats()
            assert (stats.check_failures, stats.created, stats.closed) == (1, 2, 1)

    run(main())


def test_check_that_raises_counts_as_failed() -> None:
    """An exception from the check means the connection is broken."""

    async def main() -> None:
        db = FakeDB()

        async def check(conn: Conn) -> bool:
            if conn.number == 0:
                raise OSError("connection reset")
            return True

        pool = make_pool(db, min_size=1, check=check)
        async with pool, pool.connection() as conn:
            assert conn.number == 1

    run(main())


def test_max_lifetime_replaces_old_connections() -> None:
    """A connection older than max_lifetime is closed when seen, never lent out."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=1, max_size=2, max_lifetime=60) as pool:
            await asyncio.sleep(61)
            async with pool.connection() as conn:
                assert conn.number == 1
            assert db.made[0].closed

    run(main())


def test_max_idle_shrinks_back_to_min_size() -> None:
    """Connections idle longer than max_idle are closed, but never below min_size."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=2, max_size=6, max_idle=30) as pool:

            async def work() -> None:
                async with pool.connection():
                    await asyncio.sleep(1)

            await asyncio.gather(*(work() for _ in range(6)))
            assert pool.stats().idle == 6
            await asyncio.sleep(31)
            async with pool.connection():
                pass
            await asyncio.sleep(0)  # closing happens in the background
            stats = pool.stats()
            assert (stats.idle, stats.closed) == (2, 4)
            assert len(db.live) == 2

    run(main())


def test_close_fails_waiters_and_refuses_new_borrows() -> None:
    """After close() borrows raise PoolClosed; idle and returned connections are closed."""

    async def main() -> None:
        db = FakeDB()
        pool = make_pool(db, min_size=1, max_size=1)
        await pool.open()
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0.1)
        await pool.close()
        with pytest.raises(PoolClosed):
            await waiter
        with pytest.raises(PoolClosed, match="closed"):
            await pool.acquire()
        pool.release(held)
        await asyncio.sleep(0)
        assert db.live == []
        assert repr(pool) == "<ConnectionPool [closed, in use 0, idle 0, waiting 0]>"
        await pool.close()  # twice is fine

    run(main())


def test_borrow_before_open_is_refused() -> None:
    """A pool that was never opened says how to open it."""

    async def main() -> None:
        with pytest.raises(PoolClosed, match="open"):
            await make_pool(FakeDB()).acquire()

    run(main())


def test_cancelled_waiter_leaks_nothing() -> None:
    """Cancelling a waiter, even right after it was handed a connection, loses no slot."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=1, max_size=1) as pool:
            held = await pool.acquire()
            queued = asyncio.create_task(pool.acquire())
            handed = asyncio.create_task(pool.acquire())
            await asyncio.sleep(0.1)
            queued.cancel()
            await asyncio.sleep(0)
            pool.release(held)  # hands the connection to `handed`...
            handed.cancel()  # ...cancelled before it resumes: it must hand it back
            await asyncio.gather(queued, handed, return_exceptions=True)
            stats = pool.stats()
            assert (stats.in_use, stats.idle, stats.waiting) == (0, 1, 0)
            async with pool.connection() as conn:
                assert conn is held

    run(main())


def test_cancelled_holder_gives_the_connection_back() -> None:
    """A task cancelled while holding a connection returns it to the pool."""

    async def main() -> None:
        async with make_pool(FakeDB(), min_size=1, max_size=1) as pool:

            async def hold() -> None:
                async with pool.connection():
                    await asyncio.sleep(100)

            task = asyncio.create_task(hold())
            await asyncio.sleep(1)
            assert repr(pool) == "<ConnectionPool [in use 1, idle 0, waiting 0]>"
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            assert repr(pool) == "<ConnectionPool [in use 0, idle 1, waiting 0]>"

    run(main())


def test_cancelled_waiter_during_connect_strands_no_connection() -> None:
    """A waiter cancelled while its connection is being opened leaves that connection idle."""

    async def main() -> None:
        db = FakeDB(latency=1.0)
        async with make_pool(db, min_size=0, max_size=2) as pool:
            task = asyncio.create_task(pool.acquire())
            await asyncio.sleep(0.5)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.sleep(1)
            stats = pool.stats()
            assert (stats.created, stats.idle, stats.in_use, stats.opening) == (1, 1, 0, 0)
        assert db.live == []

    run(main())


def test_connect_error_reaches_the_waiter() -> None:
    """When opening a connection for a waiter fails, that waiter gets the error at once."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=0, max_size=2) as pool:
            db.fail_next = 1
            with pytest.raises(ConnectionRefusedError):
                await pool.acquire()
            assert pool.stats().connect_errors == 1
            async with pool.connection() as conn:
                assert not conn.closed

    run(main())


def test_open_failure_closes_what_was_opened() -> None:
    """If warm-up fails, open() raises and closes the connections it did make."""

    async def main() -> None:
        db = FakeDB()
        db.fail_next = 1
        pool = make_pool(db, min_size=3)
        with pytest.raises(ConnectionRefusedError):
            await pool.open()
        await asyncio.sleep(0)
        assert pool.closed
        assert len(db.made) == 2
        assert db.live == []

    run(main())


def test_cancelled_open_leaks_nothing() -> None:
    """Cancelling open() mid warm-up leaves no connection open."""

    async def main() -> None:
        db = FakeDB(latency=1.0)
        pool = make_pool(db, min_size=3)
        task = asyncio.create_task(pool.open())
        await asyncio.sleep(0.5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(2)
        assert pool.closed
        assert db.live == []

    run(main())


def test_saturation_time_is_measured() -> None:
    """saturated_s counts the time every slot is taken while someone waits."""

    async def main() -> None:
        async with make_pool(FakeDB(), min_size=1, max_size=1) as pool:
            held = await pool.acquire()
            await asyncio.sleep(3)  # all in use, nobody waiting: not saturated
            waiter = asyncio.create_task(pool.acquire())
            await asyncio.sleep(5)
            pool.release(held)
            pool.release(await waiter)
            stats = pool.stats()
            assert stats.saturated_s == pytest.approx(5.0)
            assert stats.pool_wait_p50_s == pytest.approx(2.5)
            assert pool.pop_stats().borrows == 2
            assert pool.stats().borrows == 0

    run(main())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_size": 5, "max_size": 2}, r"max_size \(2\) must be >= min_size \(5\)"),
        ({"min_size": -1}, "min_size"),
        ({"timeout": 0}, "timeout=None"),
        ({"max_lifetime": 0}, "max_lifetime"),
    ],
)
def test_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    """Impossible pool settings are refused with a message naming them."""
    with pytest.raises(ValueError, match=message):
        make_pool(FakeDB(), **kwargs)


client = st.tuples(
    st.floats(0, 3),  # start
    st.floats(0, 2),  # hold
    st.sampled_from([0.5, 1.0, 5.0]),  # timeout
    st.one_of(st.none(), st.floats(0, 4)),  # cancel after
    st.booleans(),  # fails the health check
)


@settings(max_examples=120, deadline=None)
@given(
    max_size=st.integers(1, 4),
    min_size=st.integers(0, 2),
    clients=st.lists(client, max_size=25),
    max_idle=st.sampled_from([0.5, 600.0]),
)
def test_random_workloads_leak_nothing(
    max_size: int,
    min_size: int,
    clients: list[tuple[float, float, float, float | None, bool]],
    max_idle: float,
) -> None:
    """Random borrow/hold/cancel/timeout/bad-check sequences never exceed max_size or leak."""
    min_size = min(min_size, max_size)

    async def main() -> None:
        db = FakeDB(latency=0.05, max_live=max_size)

        async def check(conn: Conn) -> bool:
            return conn.healthy

        pool = make_pool(db, min_size=min_size, max_size=max_size, max_idle=max_idle, check=check)
        await pool.open()
        holders: set[int] = set()

        async def borrow(start: float, hold: float, timeout: float, bad: bool) -> None:
            await asyncio.sleep(start)
            async with pool.connection(timeout) as conn:
                assert conn.number not in holders, "one connection lent to two borrowers"
                holders.add(conn.number)
                try:
                    await asyncio.sleep(hold)
                    conn.healthy = not bad
                finally:
                    holders.discard(conn.number)

        async def watch() -> None:
            while True:
                s = pool.stats()
                assert s.in_use + s.idle + s.opening <= max_size
                assert s.in_use >= len(holders)  # also counts borrows being checked or handed over
                assert len(db.live) <= max_size
                await asyncio.sleep(0.05)

        watcher = asyncio.create_task(watch())
        tasks = []
        for start, hold, timeout, cancel_after, bad in clients:
            task = asyncio.create_task(borrow(start, hold, timeout, bad))
            if cancel_after is not None:
                asyncio.get_running_loop().call_later(cancel_after, task.cancel)
            tasks.append(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            assert result is None or isinstance(result, (PoolTimeout, asyncio.CancelledError))
            event(type(result).__name__)
        await asyncio.sleep(1)  # let background opens and closes finish
        stats = pool.stats()
        assert (stats.in_use, stats.waiting, stats.opening) == (0, 0, 0)
        assert len(db.live) == stats.idle <= max_size
        assert stats.idle >= min_size or stats.connect_errors
        watcher.cancel()
        await pool.close()
        await asyncio.sleep(1)
        assert db.live == []
        assert pool.stats().closed == len(db.made)

    run(main())


def test_release_with_discard_closes_and_replaces() -> None:
    """release(conn, discard=True) closes the connection; the pool tops itself up to min_size."""

    async def main() -> None:
        db = FakeDB()
        async with make_pool(db, min_size=1, max_size=2) as pool:
            conn = await pool.acquire()
            pool.release(conn, discard=True)
            await asyncio.sleep(1)
            assert conn.closed
            stats = pool.stats()
            assert (stats.idle, stats.created, stats.closed) == (1, 2, 1)
            with pytest.raises(ValueError, match="not borrowed"):
                pool.release(conn)

    run(main())
