"""CounterBuffer: the shared batching of counter writes behind every persistent store."""

from __future__ import annotations

import pytest

from perflab.cache.store import CounterBuffer


def test_add_says_when_to_flush() -> None:
    """`add` returns True on every flush_every-th call, and `clear` starts the count again."""
    buffer = CounterBuffer(flush_every=3)
    assert [buffer.add("ns", {"hits": 1}) for _ in range(3)] == [False, False, True]
    buffer.clear()
    assert not buffer
    assert buffer.add("ns", {"hits": 1}) is False


def test_rows_sum_deltas_per_namespace_and_name() -> None:
    """Increments to the same counter add up; namespaces stay apart."""
    buffer = CounterBuffer(flush_every=10)
    buffer.add("a", {"hits": 1, "misses": 2})
    buffer.add("a", {"hits": 3})
    buffer.add("b", {"hits": 5})
    assert sorted(buffer.rows()) == [("a", "hits", 4), ("a", "misses", 2), ("b", "hits", 5)]


@pytest.mark.parametrize(("namespace", "left"), [("a", [("b", "hits", 5)]), (None, [])])
def test_drop_forgets_one_namespace_or_all(
    namespace: str | None, left: list[tuple[str, str, int]]
) -> None:
    """`drop(ns)` forgets that namespace's increments; `drop(None)` forgets everything."""
    buffer = CounterBuffer(flush_every=10)
    buffer.add("a", {"hits": 1})
    buffer.add("b", {"hits": 5})
    buffer.drop(namespace)
    assert buffer.rows() == left


def test_flush_every_below_one_is_refused() -> None:
    """A flush interval below 1 is refused, naming the setting."""
    with pytest.raises(ValueError, match=r"counter_flush_every \(0\) must be >= 1"):
        CounterBuffer(flush_every=0)
