"""Connection pool: keep a few connections open and lend them out.

Opening a database connection costs a network round trip or three, a TLS handshake
and authentication: the guide's "150 ms per connection setup". A pool pays that once
and lends the same connections out again and again (the guide's restaurant: ``min_size``
tables always laid, ``max_size`` the capacity of the room, and warming up means laying
the tables before opening the doors).

How this one works:

* ``open()`` warms up: it opens ``min_size`` connections before returning.
* A borrower takes an idle connection if there is one (the most recently used,
  so the spare ones age out and can be closed by ``max_idle``). Otherwise it joins a
  first-in, first-out line and, if the pool has room below ``max_size``, a background
  task opens a new connection for the line. A returned connection goes straight to
  the longest waiter.
* Waiting has a ``timeout`` (a loop timer, so it also runs on the simulator's
  virtual-time loop); running out raises ``PoolTimeout`` with the numbers and the fix.
* ``check`` (optional) runs on every borrow; a connection that fails it is closed and
  replaced. Connections older than ``max_lifetime`` are closed when seen; ones idle for
  more than ``max_idle`` are closed while the pool is above ``min_size``.
* Cancellation is safe: a waiter cancelled at any point, even just after being handed
  a connection, passes that connection on; a holder cancelled inside
  ``async with pool.connection()`` gives it back. Connections are opened only by
  pool tasks, never by a borrower, so a cancelled borrower never strands half an open.

All bookkeeping happens between awaits on one event loop, so no lock is needed.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from perflab.clock import Clock, default_clock
from perflab.errors import PoolClosed, PoolTimeout
from perflab.metrics import LatencyRecorder, renamed

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ConnectionPool", "PoolState", "PoolStats"]

T = TypeVar("T")


class PoolState(enum.Enum):
    """Where a pool stands in its life: made, warming up, lending, or closed for good."""

    NEW = "new"
    OPENING = "opening"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool's counters and gauges (see docs/resilience.md).

    Attributes:
        created: connections opened, warm-up included.
        reused: borrows served by a connection that already existed when the borrow began.
        closed: connections closed (expired, failed a check, or at pool close).
        borrows: connections lent out.
        timeouts: borrows that gave up with ``PoolTimeout``.
        connect_errors: attempts to open a connection that raised.
        check_failures: borrows whose health check failed (the connection was replaced).
        pool_wait_p50_s: median time a borrow took, waiting and checking included
            (NaN before the first borrow).
        pool_wait_p95_s: 95th percentile of the same (NaN before the first borrow); a
            simulation's ``SimSummary.pool_wait_p95_s`` is this figure.
        saturated_s: total time every slot was taken (lent out or being opened) while
            someone waited.
        in_use: connections lent out now.
        idle: connections in the pool, ready now.
        opening: connections being opened now.
        waiting: borrowers waiting now.

    ``wait_p50_s`` and ``wait_p95_s`` still read (deprecated aliases of
    ``pool_wait_p50_s`` and ``pool_wait_p95_s``, no warning; CHANGELOG.md).
    """

    created: int
    reused: int
    closed: int
    borrows: int
    timeouts: int
    connect_errors: int
    check_failures: int
    pool_wait_p50_s: float
    pool_wait_p95_s: float
    saturated_s: float
    in_use: int
    idle: int
    opening: int
    waiting: int

    wait_p50_s = renamed("pool_wait_p50_s")  # deprecated aliases (CHANGELOG.md)
    wait_p95_s = renamed("pool_wait_p95_s")


class _Entry(Generic[T]):
    """A pooled connection and its history."""

    __slots__ = ("conn", "created_at", "fresh", "last_used")

    def __init__(self, conn: T, now: float, fresh: bool) -> None:
        self.conn = conn
        self.created_at = now
        self.last_used = now
        self.fresh = fresh  # opened for a waiting borrower: its first borrow is not a reuse


class ConnectionPool(Generic[T]):
    """An asyncio pool of connections made by an async ``connect()`` factory.

    Args:
        connect: ``async () -> connection``; called by the pool only.
        min_size: connections opened at warm-up and kept open (the guide's 2).
        max_size: the most connections ever open at once (the guide's 10).
        timeout: seconds a borrower waits before ``PoolTimeout``; ``None`` waits forever.
        max_lifetime: close a connection this many seconds after it was opened.
        max_idle: close a connection idle this long, while the pool is above ``min_size``.
        check: ``async (conn) -> bool`` run on every borrow; ``False`` or an exception
            means the connection is broken and is replaced.
        close_conn: ``async (conn) -> None``; default calls ``conn.close()`` if it has
            one (and awaits it if that returns an awaitable).
        clock: where every time is read: deadlines, waits, ages and saturation
            (default: monotonic). A timeout fires by the event loop's timer, so the clock
            must run with the loop's time: ``MonotonicClock`` (the default) is that on a
            normal loop; on the simulator's virtual-time loop pass ``LoopClock()``.

    Raises:
        ValueError: for sizes or times that make no sense.

    >>> import asyncio
    >>> async def connect() -> str:   # a real one opens a database connection
    ...     await asyncio.sleep(0.01)
    ...     return "conn"
    >>> async def main() -> PoolStats:
    ...     async with ConnectionPool(connect, min_size=2, max_size=10) as pool:
    ...         for _ in range(5):
    ...             async with pool.connection() as conn:
    ...                 pass  # await conn.execute("select 1")
    ...         return pool.stats()
    >>> stats = asyncio.run(main())
    >>> (stats.created, stats.borrows, stats.reused)
    (2, 5, 5)
    """

    def __init__(
        self,
        connect: Callable[[], Awaitable[T]],
        *,
        min_size: int = 2,
        max_size: int = 10,
        timeout: float | None = 30.0,
        max_lifetime: float = 3600.0,
        max_idle: float = 600.0,
        check: Callable[[T], Awaitable[bool]] | None = None,
        close_conn: Callable[[T], Awaitable[None]] | None = None,
        clock: Clock | None = None,
    ) -> None:
        if min_size < 0:
            raise ValueError(f"min_size ({min_size}) must be >= 0")
        if max_size < max(1, min_size):
            raise ValueError(f"max_size ({max_size}) must be >= min_size ({min_size}) and >= 1")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout ({timeout}) must be > 0; use timeout=None to wait forever")
        if not max_lifetime > 0 or not max_idle > 0:
            raise ValueError(f"max_lifetime ({max_lifetime}) and max_idle ({max_idle}) must be > 0")
        self._connect = connect
        self.min_size, self.max_size = min_size, max_size
        self.timeout = timeout
        self.max_lifetime, self.max_idle = float(max_lifetime), float(max_idle)
        self._check = check
        self._close_conn = close_conn
        self._clock = default_clock(clock)
        self._idle: deque[_Entry[T]] = deque()  # right end = most recently returned
        self._in_use: dict[int, _Entry[T]] = {}
        self._opening = 0
        self._waiters: deque[asyncio.Future[_Entry[T]]] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
        self._state = PoolState.NEW
        self._created = self._reused = self._closed_count = self._borrows = 0
        self._timeouts = self._connect_errors = self._check_failures = 0
        self.wait_times = LatencyRecorder(clock=self._clock)
        """Every borrow's wait, waiting and checking included (a ``LatencyRecorder``)."""
        self._saturated = 0.0
        self._saturated_since: float | None = None

    # -- life cycle -----------------------------------------------------------------
    async def open(self) -> None:
        """Open ``min_size`` connections (warm-up), then start lending.

        Raises:
            Exception: whatever ``connect`` raised; connections already made are closed.
        """
        if self._state is not PoolState.NEW:
            raise PoolClosed(f"pool is {self._state.value}; open() can be called once")
        self._state = PoolState.OPENING
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._call_connect()) for _ in range(self.min_size)]
        try:
            if tasks:
                await asyncio.wait(tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._keep_warm(tasks)  # what did get opened is closed by close(), not lost
            await self.close()
            raise
        errors = self._keep_warm(tasks)
        if errors:
            await self.close()
            raise errors[0]
        self._state = PoolState.OPEN

    async def _call_connect(self) -> T:
        return await self._connect()

    def _keep_warm(self, tasks: list[asyncio.Task[T]]) -> list[BaseException]:
        """Shelve the warm-up connections that opened; return the errors of those that did not."""
        now = self._clock.now()
        errors: list[BaseException] = []
        for task in tasks:
            if task.cancelled():
                continue
            error = task.exception()
            if error is not None:
                errors.append(error)
            else:
                self._created += 1
                self._idle.append(_Entry(task.result(), now, fresh=False))
        self._connect_errors += len(errors)
        return errors

    async def close(self) -> None:
        """Stop lending: fail the waiters, close idle connections, stop opening new ones.

        Connections still lent out are closed when they are given back. Safe to call twice.
        """
        if self._state is PoolState.CLOSED:
            return
        self._state = PoolState.CLOSED
        self._mark_saturation()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(PoolClosed("the pool was closed while waiting for a connection"))
        while self._idle:
            self._spawn(self._close_entry(self._idle.pop()), "pool-close")
        tasks = list(self._tasks)
        for task in tasks:
            if task.get_name() == "pool-open":
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once ``close()`` has been called."""
        return self._state is PoolState.CLOSED

    # -- borrowing ------------------------------------------------------------------
    async def acquire(self, timeout: float | None = None) -> T:
        """Borrow a connection; give it back with ``release()``.

        Prefer ``async with pool.connection() as conn``, which always gives it back.

        Args:
            timeout: override the pool's timeout for this borrow.

        Raises:
            PoolTimeout: no connection within the timeout.
            PoolClosed: the pool is not open.
            Exception: what ``connect`` raised, when opening a connection for us failed.
        """
        if self._state is not PoolState.OPEN:
            raise PoolClosed(
                f"the pool is {self._state.value}: call `await pool.open()` first, or use `async with pool`"
            )
        limit = self.timeout if timeout is None else timeout
        start = self._clock.now()
        deadline = None if limit is None else start + limit
        front = False  # after a failed check we rejoin at the head of the line
        while True:
            entry = self._pop_idle()
            reused = entry is not None
            if entry is None:
                remaining = None if deadline is None else deadline - self._clock.now()
                entry = await self._wait(limit, remaining, front)
                reused = not entry.fresh
                entry.fresh = False
            if self._check is None or await self._run_check(entry):
                break
            front = True
        self._borrows += 1
        self._reused += reused
        self.wait_times.record(self._clock.now() - start)
        return entry.conn

    def release(self, conn: T, *, discard: bool = False) -> None:
        """Give a borrowed connection back (or close it, with ``discard=True``)."""
        entry = self._in_use.pop(id(conn), None)
        if entry is None:
            raise ValueError(f"{conn!r} was not borrowed from this pool")
        now = self._clock.now()
        entry.last_used = now
        if (
            discard
            or self._state is PoolState.CLOSED
            or now - entry.created_at >= self.max_lifetime
        ):
            self._discard(entry)
        else:
            self._give(entry)
        self._mark_saturation()

    def connection(self, timeout: float | None = None) -> _Borrow[T]:
        """Borrow a connection for an ``async with`` block; always given back, even on cancel."""
        return _Borrow(self, timeout)

    # -- internals ------------------------------------------------------------------
    def _pop_idle(self) -> _Entry[T] | None:
        now = self._clock.now()
        # The least recently used connection sits at the left: close it if it idled too long.
        while (
            self._idle
            and self._size() > self.min_size
            and now - self._idle[0].last_used >= self.max_idle
        ):
            self._discard(self._idle.popleft(), replace=False)
        while self._idle:
            entry = self._idle.pop()
            if now - entry.created_at >= self.max_lifetime:
                self._discard(entry)
                continue
            self._in_use[id(entry.conn)] = entry
            return entry
        return None

    async def _wait(self, limit: float | None, remaining: float | None, front: bool) -> _Entry[T]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_Entry[T]] = loop.create_future()
        if front:
            self._waiters.appendleft(fut)
        else:
            self._waiters.append(fut)
        self._grow()
        self._mark_saturation()
        timer = None
        if remaining is not None:
            timer = loop.call_later(max(0.0, remaining), self._expire, fut, limit)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.release(fut.result().conn)  # handed a connection as we were cancelled
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if fut in self._waiters:
                self._waiters.remove(fut)
            self._mark_saturation()

    def _expire(self, fut: asyncio.Future[_Entry[T]], limit: float | None) -> None:
        if fut.done():
            return
        self._timeouts += 1
        fut.set_exception(
            PoolTimeout(
                f"couldn't get a connection after {limit or 0:.2f} sec: {len(self._in_use)} of "
                f"max_size {self.max_size} in use, {len(self._waiters)} waiting. Give connections "
                "back sooner, raise max_size, or raise the timeout"
            )
        )

    def _give(self, entry: _Entry[T]) -> None:
        """Hand a free connection to the longest waiter, or put it back on the shelf."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                self._in_use[id(entry.conn)] = entry
                fut.set_result(entry)
                return
        entry.fresh = False
        self._idle.append(entry)

    def _size(self) -> int:
        return len(self._idle) + len(self._in_use) + self._opening

    def _grow(self) -> None:
        """Start opening connections for waiters nobody is already opening one for."""
        waiting = sum(1 for f in self._waiters if not f.done())
        needed = min(waiting - self._opening, self.max_size - self._size())
        for _ in range(needed):
            self._opening += 1
            self._spawn(self._open_one(fresh=True), "pool-open")

    def _replenish(self) -> None:
        while self._state is PoolState.OPEN and self._size() < self.min_size:
            self._opening += 1
            self._spawn(self._open_one(fresh=False), "pool-open")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open_one(self, fresh: bool) -> None:
        try:
            conn = await self._connect()
        except asyncio.CancelledError:
            self._opening -= 1
            raise
        except Exception as exc:  # noqa: BLE001 - any connect error is passed to a waiter
            self._opening -= 1
            self._connect_errors += 1
            # Tell the longest waiter why, rather than letting it wait for nothing.
            for fut in self._waiters:
                if not fut.done():
                    fut.set_exception(exc)
                    break
            self._mark_saturation()
            return
        self._opening -= 1
        self._created += 1
        entry = _Entry(conn, self._clock.now(), fresh)
        if self._state is PoolState.CLOSED:
            await self._close_entry(entry)
            return
        self._give(entry)
        self._mark_saturation()

    async def _run_check(self, entry: _Entry[T]) -> bool:
        assert self._check is not None
        try:
            healthy = bool(await self._check(entry.conn))
        except asyncio.CancelledError:
            self.release(entry.conn)  # unchecked, not broken: the next borrower checks it
            raise
        except Exception:  # noqa: BLE001 - a check that raises is a failed check
            healthy = False
        if not healthy:
            self._check_failures += 1
            del self._in_use[id(entry.conn)]
            self._discard(entry)
        return healthy

    def _discard(self, entry: _Entry[T], replace: bool = True) -> None:
        """Close ``entry`` in the background and, if needed, open a replacement."""
        self._spawn(self._close_entry(entry), "pool-close")
        if replace:
            self._replenish()
            self._grow()
        self._mark_saturation()

    async def _close_entry(self, entry: _Entry[T]) -> None:
        self._closed_count += 1
        try:
            if self._close_conn is not None:
                await self._close_conn(entry.conn)
            else:
                closer = getattr(entry.conn, "close", None)
                if callable(closer):
                    result = closer()
                    if inspect.isawaitable(result):
                        await result
        except Exception:  # noqa: BLE001, S110 - a connection that fails to close is gone all the same
            pass

    def _mark_saturation(self) -> None:
        """Track how long every slot is taken while someone waits (on the injected clock)."""
        saturated = (
            self._state is PoolState.OPEN
            and bool(self._waiters)
            and len(self._in_use) + self._opening >= self.max_size
        )
        if saturated and self._saturated_since is None:
            self._saturated_since = self._clock.now()
        elif not saturated and self._saturated_since is not None:
            self._saturated += self._clock.now() - self._saturated_since
            self._saturated_since = None

    # -- stats ----------------------------------------------------------------------
    def stats(self) -> PoolStats:
        """A snapshot of the counters and gauges."""
        saturated = self._saturated
        if self._saturated_since is not None:
            saturated += self._clock.now() - self._saturated_since
        return PoolStats(
            created=self._created,
            reused=self._reused,
            closed=self._closed_count,
            borrows=self._borrows,
            timeouts=self._timeouts,
            connect_errors=self._connect_errors,
            check_failures=self._check_failures,
            pool_wait_p50_s=self.wait_times.percentile(50),
            pool_wait_p95_s=self.wait_times.percentile(95),
            saturated_s=saturated,
            in_use=len(self._in_use),
            idle=len(self._idle),
            opening=self._opening,
            waiting=sum(1 for f in self._waiters if not f.done()),
        )

    def pop_stats(self) -> PoolStats:
        """Return the stats and zero the counters (gauges such as ``in_use`` are kept)."""
        snapshot = self.stats()
        self._created = self._reused = self._closed_count = self._borrows = 0
        self._timeouts = self._connect_errors = self._check_failures = 0
        self.wait_times.reset()
        self._saturated = 0.0
        if self._saturated_since is not None:
            self._saturated_since = self._clock.now()
        return snapshot

    def __repr__(self) -> str:
        waiting = sum(1 for f in self._waiters if not f.done())
        state = "" if self._state is PoolState.OPEN else f"{self._state.value}, "
        return f"<ConnectionPool [{state}in use {len(self._in_use)}, idle {len(self._idle)}, waiting {waiting}]>"


class _Borrow(Generic[T]):
    """``async with pool.connection() as conn``: a plain class, cheaper than a generator."""

    __slots__ = ("_conn", "_pool", "_timeout")

    def __init__(self, pool: ConnectionPool[T], timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout

    async def __aenter__(self) -> T:
        self._conn = await self._pool.acquire(self._timeout)
        return self._conn

    async def __aexit__(self, *exc: object) -> None:
        self._pool.release(self._conn)
