"""Tests for perflab.alerts: the guide's alert thresholds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perflab.alerts import (
    DEFAULT_RULES,
    AlertRule,
    AlertTracker,
    EventKind,
    default_rules,
    evaluate,
)
from perflab.clock import FakeClock

HEALTHY = {"hit_rate": 0.8, "p95_s": 1.2, "error_rate": 0.01, "memory_percent": 55.0}


def test_healthy_snapshot_fires_nothing() -> None:
    """A snapshot inside every threshold raises no alert."""
    assert evaluate(HEALTHY) == []


@pytest.mark.parametrize(
    ("metric", "value", "rule", "text"),
    [
        (
            "hit_rate",
            0.42,
            "low_hit_rate",
            "cache hit rate 42.0% is below 50%: investigation needed",
        ),
        (
            "p95_s",
            6.5,
            "slow_p95",
            "P95 response time 6.50 s is above 5 s: performance degradation",
        ),
        ("error_rate", 0.08, "high_error_rate", "error rate 8.0% is above 5%: system unhealthy"),
        (
            "memory_percent",
            91.0,
            "memory_pressure",
            "memory use 91% is above 80%: resource pressure",
        ),
    ],
)
def test_each_guide_threshold_fires_with_its_value(
    metric: str, value: float, rule: str, text: str
) -> None:
    """Breaking one of the guide's thresholds fires that rule with the value and message."""
    (alert,) = evaluate({**HEALTHY, metric: value})
    assert alert.name == rule and alert.value == value and alert.message == text
    assert not alert.is_missing
    assert str(alert) == f"[{rule}] {text}"


@pytest.mark.parametrize(
    ("metric", "value"),
    [("hit_rate", 0.5), ("p95_s", 5.0), ("error_rate", 0.05), ("memory_percent", 80.0)],
)
def test_values_at_the_threshold_do_not_fire(metric: str, value: float) -> None:
    """The guide's rules are strict: exactly at the threshold is still fine."""
    assert evaluate({**HEALTHY, metric: value}) == []


def test_thresholds_are_configurable() -> None:
    """default_rules takes other thresholds, and with_threshold copies one rule."""
    rules = default_rules(max_p95_s=1.0, min_hit_rate=0.9)
    assert [a.name for a in evaluate(HEALTHY, rules)] == ["low_hit_rate", "slow_p95"]
    strict = DEFAULT_RULES[3].with_threshold(50.0)
    assert [a.name for a in evaluate(HEALTHY, [strict])] == ["memory_pressure"]
    assert DEFAULT_RULES[3].threshold == 80.0


def test_missing_metric_is_reported_not_ignored() -> None:
    """A rule whose metric is absent yields an alert that names the metric and what is there."""
    alerts = evaluate({"p95_s": 1.0})
    assert [a.name for a in alerts] == ["low_hit_rate", "high_error_rate", "memory_pressure"]
    assert all(a.is_missing and a.value is None for a in alerts)
    assert alerts[0].message == (
        "metric 'hit_rate' is missing from the snapshot (it has: p95_s); "
        "cannot check hit_rate < 0.5"
    )


def test_nan_metric_is_reported_as_no_value() -> None:
    """A NaN value (e.g. P95 with no requests yet) is reported, not compared."""
    (alert,) = evaluate({**HEALTHY, "p95_s": math.nan})
    assert alert.is_missing and "no value (NaN)" in alert.message


def test_missing_can_raise_or_be_skipped() -> None:
    """missing='raise' raises KeyError; missing='skip' checks only what is there."""
    with pytest.raises(KeyError, match="hit_rate"):
        evaluate({"p95_s": 9.0}, missing="raise")
    assert [a.name for a in evaluate({"p95_s": 9.0}, missing="skip")] == ["slow_p95"]
    with pytest.raises(ValueError, match="missing must be"):
        evaluate({}, missing="maybe")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("op", "value", "fires"),
    [
        ("<", 1.0, False),
        ("<=", 1.0, True),
        (">", 1.0, False),
        (">=", 1.0, True),
        (">", 1.5, True),
        ("<", 0.5, True),
    ],
)
def test_custom_rule_operators(op: str, value: float, fires: bool) -> None:
    """Each operator compares the value with the threshold as written."""
    rule = AlertRule("r", "x", op, 1.0)  # type: ignore[arg-type]
    assert rule.fires(value) is fires
    assert bool(evaluate({"x": value}, [rule])) is fires


def test_default_message_template() -> None:
    """A rule without a message gets a generic one with metric, value and limit."""
    (alert,) = evaluate({"queue": 12}, [AlertRule("deep_queue", "queue", ">", 10)])
    assert alert.message == "queue = 12 (limit 10)"


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"op": "!="}, "op must be"), ({"threshold": math.nan}, "NaN")]
)
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    """An unknown operator or a NaN threshold raises ValueError."""
    args: dict[str, object] = {"name": "r", "metric": "x", "op": ">", "threshold": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        AlertRule(**args)  # type: ignore[arg-type]


@given(st.floats(0, 1), st.floats(0, 20), st.floats(0, 1), st.floats(0, 100))
def test_alerts_fire_exactly_when_a_threshold_is_crossed(
    hit: float, p95: float, err: float, mem: float
) -> None:
    """The fired set matches a direct reading of the guide's four thresholds."""
    fired = {
        a.name
        for a in evaluate({"hit_rate": hit, "p95_s": p95, "error_rate": err, "memory_percent": mem})
    }
    expected = {
        name
        for name, bad in [
            ("low_hit_rate", hit < 0.5),
            ("slow_p95", p95 > 5),
            ("high_error_rate", err > 0.05),
            ("memory_pressure", mem > 80),
        ]
        if bad
    }
    assert fired == expected


def test_tracker_reports_only_changes(clock: FakeClock) -> None:
    """The tracker reports a firing once, then its resolution, with clock times."""
    tracker = AlertTracker(clock=clock)
    assert tracker.update(HEALTHY) == []
    clock.advance(10)
    (event,) = tracker.update({**HEALTHY, "p95_s": 7.0})
    assert (event.kind, event.alert.name, event.at) == (EventKind.FIRED, "slow_p95", 10)
    clock.advance(10)
    assert tracker.update({**HEALTHY, "p95_s": 8.0}) == []
    assert [a.name for a in tracker.active] == ["slow_p95"]
    assert repr(tracker) == "<AlertTracker [4 rules, firing: slow_p95]>"
    clock.advance(10)
    (event,) = tracker.update(HEALTHY)
    assert (event.kind, event.at) == (EventKind.RESOLVED, 30)
    assert len(tracker.history) == 2 and tracker.active == []
