"""Tests for perflab.metrics: the latency recorder, spans, counters and snapshots."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.clock import FakeClock
from perflab.metrics import (
    Counters,
    LatencyRecorder,
    LatencySummary,
    Metrics,
    Spans,
    format_duration,
)

latencies = st.lists(st.floats(0.0, 1e4, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=100, deadline=None)
@given(latencies, st.lists(st.floats(0.0, 100.0), min_size=1, max_size=5))
def test_percentiles_match_numpy(values: list[float], qs: list[float]) -> None:
    """Any percentile equals numpy.percentile on the same samples."""
    rec = LatencyRecorder()
    rec.record_many(values)
    np.testing.assert_allclose(
        rec.percentiles(qs), np.percentile(values, qs), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(latencies, min_size=1, max_size=6))
def test_percentiles_stay_exact_when_queried_between_records(batches: list[list[float]]) -> None:
    """Querying, recording more and querying again matches numpy on everything so far."""
    rec = LatencyRecorder()
    seen: list[float] = []
    for batch in batches:
        for value in batch:
            rec.record(value)
        seen.extend(batch)
        summary = rec.summary()
        expected = np.percentile(seen, [50, 95, 99])
        np.testing.assert_allclose(
            [summary.p50_s, summary.p95_s, summary.p99_s], expected, rtol=1e-12, atol=1e-12
        )
        assert summary.count == len(seen)
        assert summary.max_s == max(seen)
        assert summary.mean_s == pytest.approx(float(np.mean(seen)), rel=1e-9, abs=1e-12)


def test_summary_of_known_values() -> None:
    """1..100 ms give P50 50.5 ms, P95 95.05 ms, P99 99.01 ms, max 100 ms."""
    rec = LatencyRecorder()
    for ms in range(1, 101):
        rec.record(ms / 1000)
    s = rec.summary()
    assert s.count == 100
    assert s.mean_s == pytest.approx(0.0505)
    assert s.p50_s == pytest.approx(0.0505)
    assert s.p95_s == pytest.approx(0.09505)
    assert s.p99_s == pytest.approx(0.09901)
    assert s.max_s == pytest.approx(0.1)
    assert s.as_dict() == {
        "count": 100,
        "mean_s": s.mean_s,
        "p50_s": s.p50_s,
        "p95_s": s.p95_s,
        "p99_s": s.p99_s,
        "max_s": s.max_s,
    }


def test_empty_recorder_reports_nan() -> None:
    """With no samples the summary has count 0 and NaN times."""
    rec = LatencyRecorder()
    s = rec.summary()
    assert s.count == 0 and math.isnan(s.p95_s) and math.isnan(s.mean_s)
    assert math.isnan(rec.percentile(50)) and math.isnan(rec.mean())
    assert repr(rec) == "<LatencyRecorder [empty]>"


@pytest.mark.parametrize("bad", [-0.001, float("nan")])
def test_record_refuses_negative_and_nan(bad: float) -> None:
    """A negative or NaN latency is refused (a clock bug, not a measurement)."""
    rec = LatencyRecorder()
    with pytest.raises(ValueError, match=">= 0"):
        rec.record(bad)
    with pytest.raises(ValueError, match=">= 0"):
        rec.record_many([0.1, bad])
    assert rec.count == 0


def test_percentile_out_of_range_is_refused() -> None:
    """A percentile outside 0-100 raises ValueError."""
    rec = LatencyRecorder()
    rec.record(1.0)
    with pytest.raises(ValueError, match="between 0 and 100"):
        rec.percentile(101)


def test_record_many_accepts_numpy_arrays() -> None:
    """record_many takes a numpy array as well as a list."""
    rec = LatencyRecorder()
    rec.record_many(np.array([0.3, 0.1, 0.2]))
    assert rec.count == 3 and len(rec) == 3
    assert rec.values().tolist() == [0.3, 0.1, 0.2]


def test_recording_after_a_query_still_works() -> None:
    """A query leaves no buffer view behind, so later appends succeed."""
    rec = LatencyRecorder()
    rec.record_many([0.1] * 10)
    rec.summary()
    rec.values()
    rec.record(0.5)
    assert rec.summary().max_s == 0.5


def test_large_batch_after_small_history() -> None:
    """A batch bigger than the sorted history is merged correctly."""
    rec = LatencyRecorder()
    rec.record_many([5.0, 1.0])
    rec.summary()
    rec.record_many(list(np.linspace(0, 10, 101)))
    assert rec.percentile(50) == pytest.approx(
        float(np.percentile([5.0, 1.0, *np.linspace(0, 10, 101)], 50))
    )


def test_timer_records_on_the_fake_clock(clock: FakeClock) -> None:
    """rec.time() records the clock's elapsed time, even when the block raises."""
    rec = LatencyRecorder(clock=clock)
    with rec.time() as timer:
        clock.advance(0.25)
    assert timer.elapsed_s == 0.25
    with pytest.raises(RuntimeError), rec.time():
        clock.advance(0.5)
        raise RuntimeError("boom")
    assert rec.values().tolist() == [0.25, 0.5]


def test_pop_stats_resets() -> None:
    """pop_stats returns the window's summary and empties the recorder."""
    rec = LatencyRecorder()
    rec.record_many([0.1, 0.2])
    assert rec.pop_stats().count == 2
    assert rec.count == 0 and rec.stats().count == 0


def test_repr_shows_the_live_percentiles() -> None:
    """The repr shows count and percentiles in readable units."""
    rec = LatencyRecorder()
    rec.record_many([0.010, 0.020, 0.030])
    assert repr(rec) == "<LatencyRecorder [n=3, p50=20ms, p95=29ms, p99=29.8ms]>"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.00085, "850us"), (0.0123, "12.3ms"), (1.25, "1.25s"), (math.nan, "nan")],
)
def test_format_duration(seconds: float, text: str) -> None:
    """Durations print in the unit that keeps them short."""
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0.9996, "1s"), (0.0009996, "1ms")])
def test_format_duration_rounds_into_the_next_unit(seconds: float, text: str) -> None:
    """A duration that rounds up to 1000 of a unit prints as 1 of the next one."""
    assert format_duration(seconds) == text


def test_summary_str_is_readable() -> None:
    """str(summary) lists the fields in readable units."""
    s = LatencySummary(2, 0.0015, 0.001, 0.002, 0.002, 0.002)
    assert str(s) == "n=2 mean=1.5ms p50=1ms p95=2ms p99=2ms max=2ms"


def test_to_frame_has_the_samples() -> None:
    """to_frame returns a DataFrame with one latency_s row per sample."""
    rec = LatencyRecorder()
    rec.record_many([0.1, 0.2])
    assert rec.to_frame()["latency_s"].tolist() == [0.1, 0.2]


def test_spans_time_stages_and_compute_shares(clock: FakeClock) -> None:
    """Spans time each stage on the clock; shares are each stage's fraction of the time."""
    spans = Spans(clock=clock)
    for _ in range(3):
        with spans.span("search"):
            clock.advance(0.5)
        with spans.span("generate"):
            clock.advance(1.5)
    spans.record("store", 0.0)
    assert spans.stages == ["search", "generate", "store"]
    summary = spans.summary()
    assert summary["search"].count == 3 and summary["search"].p50_s == pytest.approx(0.5)
    assert spans.totals() == pytest.approx({"search": 1.5, "generate": 4.5, "store": 0.0})
    assert spans.shares() == pytest.approx({"search": 0.25, "generate": 0.75, "store": 0.0})
    assert repr(spans) == "<Spans [search n=3, generate n=3, store n=1]>"


def test_spans_to_frame_has_one_row_per_stage(clock: FakeClock) -> None:
    """to_frame gives a DataFrame indexed by stage with summary, total and share."""
    spans = Spans(clock=clock)
    spans.record("a", 1.0)
    spans.record("b", 3.0)
    frame = spans.to_frame()
    assert list(frame.index) == ["a", "b"]
    assert frame.loc["b", "share"] == pytest.approx(0.75)
    assert "p95_s" in frame.columns


def test_spans_shares_are_nan_without_time() -> None:
    """With no time recorded, shares are NaN rather than a division error."""
    spans = Spans()
    spans.record("a", 0.0)
    assert math.isnan(spans.shares()["a"])


def test_counters_count_and_divide() -> None:
    """Counters add up, read 0 when unknown and divide safely."""
    c = Counters()
    c.inc("hits", 3)
    c.inc("misses")
    assert c.as_dict() == {"hits": 3, "misses": 1}
    assert c["hits"] == 3 and c.get("nothing") == 0
    assert c.ratio("hits", "misses") == 3.0
    assert math.isnan(c.ratio("hits", "nothing"))
    assert repr(c) == "<Counters [hits=3, misses=1]>"
    c.reset()
    assert c.as_dict() == {}


def test_metrics_snapshot_flattens_and_derives_rates(clock: FakeClock) -> None:
    """The snapshot holds latency, per-stage, counter and derived-rate values."""
    m = Metrics(clock=clock)
    m.latency.record_many([1.0, 2.0, 3.0])
    m.spans.record("search", 0.5)
    m.counters.inc("hits", 3)
    m.counters.inc("misses", 1)
    m.counters.inc("requests", 20)
    m.counters.inc("errors", 2)
    snap = m.snapshot(extra={"memory_percent": 42.0})
    assert snap["p50_s"] == 2.0 and snap["count"] == 3
    assert snap["search.p50_s"] == 0.5
    assert snap["hit_rate"] == pytest.approx(0.75)
    assert snap["error_rate"] == pytest.approx(0.1)
    assert snap["memory_percent"] == 42.0
    assert m.to_frame().loc[0, "hit_rate"] == pytest.approx(0.75)


def test_metrics_snapshot_error_rate_without_errors_is_zero() -> None:
    """With requests but no errors counted, the error rate is 0."""
    m = Metrics()
    m.counters.inc("requests", 5)
    assert m.snapshot()["error_rate"] == 0.0
    assert "hit_rate" not in m.snapshot()


def test_record_corrected_adds_the_requests_a_stall_hid() -> None:
    """A 1 s stall at a 0.25 s send interval also records 0.75, 0.5 and 0.25 s."""
    rec = LatencyRecorder()
    rec.record_corrected(1.0, 0.25)
    rec.record_corrected(0.1, 0.25)
    assert sorted(rec.values().tolist()) == [0.1, 0.25, 0.5, 0.75, 1.0]
    with pytest.raises(ValueError, match="expected_interval_s"):
        rec.record_corrected(1.0, 0.0)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 100.0), st.floats(0.01, 10.0))
def test_record_corrected_matches_the_hdrhistogram_loop(seconds: float, interval: float) -> None:
    """The synthetic samples are those of HdrHistogram's correction loop, within float rounding."""
    rec = LatencyRecorder()
    rec.record_corrected(seconds, interval)
    expected = [seconds]
    missing = seconds - interval
    while missing >= interval:
        expected.append(missing)
        missing -= interval
    got = rec.values().tolist()
    assert abs(len(got) - len(expected)) <= 1  # the boundary sample may differ by rounding
    n = min(len(got), len(expected))
    np.testing.assert_allclose(got[:n], expected[:n], rtol=1e-9, atol=1e-9)


def test_hit_rate_is_defined_once_and_zero_without_lookups() -> None:
    """metrics.hit_rate is hits / lookups, 0.0 with no lookups; the cache's stats use it."""
    from perflab.cache import MemoryStore, SemanticCache
    from perflab.clock import FakeClock
    from perflab.embedders import HashingEmbedder
    from perflab.metrics import hit_rate

    assert (hit_rate(1, 4), hit_rate(0, 0)) == (0.25, 0.0)
    cache = SemanticCache(HashingEmbedder(dim=16), MemoryStore(), clock=FakeClock())
    assert cache.stats().hit_rate == 0.0


def test_latency_summary_of_matches_numpy_percentiles() -> None:
    """LatencySummary.of uses numpy.percentile's default method, to the bit."""
    values = np.random.default_rng(3).lognormal(0.0, 1.0, 501)
    s = LatencySummary.of(values)
    assert (s.p50_s, s.p95_s, s.p99_s) == tuple(
        float(np.percentile(values, q)) for q in (50, 95, 99)
    )
    assert (s.count, s.max_s, s.mean_s) == (501, float(values.max()), float(values.mean()))
    assert LatencySummary.of([]).count == 0 and math.isnan(LatencySummary.of([]).p95_s)
