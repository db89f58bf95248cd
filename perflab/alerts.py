"""Alert rules: the guide's thresholds, evaluated on a metrics snapshot.

The guide's alerting thresholds are the default rules:

=========================  ======================  ========================
rule                       metric                  fires when
=========================  ======================  ========================
``low_hit_rate``           ``hit_rate`` (0-1)      < 0.5: investigation needed
``slow_p95``               ``p95_s`` (seconds)     > 5: performance degradation
``high_error_rate``        ``error_rate`` (0-1)    > 0.05: system unhealthy
``memory_pressure``        ``memory_percent``      > 80: resource pressure
=========================  ======================  ========================

A snapshot is any ``{metric: number}`` mapping, e.g. ``Metrics.snapshot()`` merged
with ``ResourceMonitor.snapshot()``, or anything with a ``metrics()`` method that
returns one (a simulation's ``SimResult`` or ``SimSummary``: the same names, see
docs/engine-reference.md). A rule whose metric is absent (or NaN) does not
pass silently: by default it yields an alert that says the metric is missing, since
a dashboard that lost its hit-rate feed is itself a problem.

``AlertTracker`` remembers which rules are firing between evaluations and reports
only the changes (fired, resolved), stamped with its clock's time.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, Protocol, runtime_checkable

from perflab.clock import Clock, default_clock

__all__ = [
    "DEFAULT_RULES",
    "Alert",
    "AlertEvent",
    "AlertRule",
    "AlertTracker",
    "EventKind",
    "HasMetrics",
    "as_snapshot",
    "default_rules",
    "evaluate",
]

Op = Literal["<", "<=", ">", ">="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class AlertRule:
    """Fire when ``snapshot[metric] <op> threshold``.

    Attributes:
        name: a short identifier, e.g. ``"slow_p95"``.
        metric: the snapshot key the rule reads.
        op: one of ``"<"``, ``"<="``, ``">"``, ``">="``.
        threshold: the limit.
        message: what the alert says; ``{value}``, ``{threshold}`` and ``{metric}`` are
            filled in with ``str.format`` (so ``{value:.1%}`` works).

    Raises:
        ValueError: an unknown ``op`` or a NaN ``threshold``.
    """

    name: str
    metric: str
    op: Op
    threshold: float
    message: str = "{metric} = {value:g} (limit {threshold:g})"

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"op must be one of {', '.join(_OPS)}; got {self.op!r}")
        if math.isnan(self.threshold):
            raise ValueError(f"threshold of rule {self.name!r} must be a number, got NaN")

    def fires(self, value: float) -> bool:
        """True when ``value`` breaks the rule."""
        return _OPS[self.op](value, self.threshold)

    def with_threshold(self, threshold: float) -> AlertRule:
        """A copy of this rule with another threshold."""
        return replace(self, threshold=threshold)

    def describe(self) -> str:
        """The rule in words: ``"p95_s > 5"``."""
        return f"{self.metric} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Alert:
    """A rule that fired, or whose metric was missing.

    Attributes:
        rule: the rule.
        value: the value that broke it, or None when the metric was missing or NaN.
        message: the rule's message with the values filled in.
    """

    rule: AlertRule
    value: float | None
    message: str

    @property
    def name(self) -> str:
        """The rule's name."""
        return self.rule.name

    @property
    def is_missing(self) -> bool:
        """True when the alert is about a missing metric, not a broken threshold."""
        return self.value is None

    def __str__(self) -> str:
        return f"[{self.rule.name}] {self.message}"


def default_rules(
    *,
    min_hit_rate: float = 0.5,
    max_p95_s: float = 5.0,
    max_error_rate: float = 0.05,
    max_memory_percent: float = 80.0,
) -> tuple[AlertRule, ...]:
    """The guide's four rules, with each threshold adjustable.

    Args:
        min_hit_rate: alert when the cache hit rate (0-1) falls below this.
        max_p95_s: alert when the P95 response time (seconds) exceeds this.
        max_error_rate: alert when the error rate (0-1) exceeds this.
        max_memory_percent: alert when system memory use (0-100) exceeds this.
    """
    return (
        AlertRule(
            "low_hit_rate",
            "hit_rate",
            "<",
            min_hit_rate,
            "cache hit rate {value:.1%} is below {threshold:.0%}: investigation needed",
        ),
        AlertRule(
            "slow_p95",
            "p95_s",
            ">",
            max_p95_s,
            "P95 response time {value:.2f} s is above {threshold:g} s: performance degradation",
        ),
        AlertRule(
            "high_error_rate",
            "error_rate",
            ">",
            max_error_rate,
            "error rate {value:.1%} is above {threshold:.0%}: system unhealthy",
        ),
        AlertRule(
            "memory_pressure",
            "memory_percent",
            ">",
            max_memory_percent,
            "memory use {value:.0f}% is above {threshold:g}%: resource pressure",
        ),
    )


DEFAULT_RULES: tuple[AlertRule, ...] = default_rules()


def _missing_alert(rule: AlertRule, snapshot: Mapping[str, float]) -> Alert:
    if rule.metric in snapshot:
        why = f"metric {rule.metric!r} has no value (NaN)"
    else:
        have = ", ".join(sorted(snapshot)) or "nothing"
        why = f"metric {rule.metric!r} is missing from the snapshot (it has: {have})"
    return Alert(rule, None, f"{why}; cannot check {rule.describe()}")


@runtime_checkable
class HasMetrics(Protocol):
    """Something that reads as a metrics snapshot: ``SimResult``, ``SimSummary``."""

    def metrics(self) -> Mapping[str, float]:
        """The figures under perflab's metric names."""
        ...


def as_snapshot(source: Mapping[str, float] | HasMetrics) -> Mapping[str, float]:
    """``source`` itself if it is a mapping, else ``source.metrics()``."""
    if isinstance(source, Mapping):
        return source
    if isinstance(source, HasMetrics):
        return source.metrics()
    raise TypeError(
        f"a snapshot is a {{metric: number}} mapping or has a metrics() method, "
        f"got {type(source).__name__}"
    )


def evaluate(
    snapshot: Mapping[str, float] | HasMetrics,
    rules: Iterable[AlertRule] = DEFAULT_RULES,
    *,
    missing: Literal["alert", "raise", "skip"] = "alert",
) -> list[Alert]:
    """The alerts that fire on ``snapshot``, in rule order.

    >>> [a.name for a in evaluate({"hit_rate": 0.42, "p95_s": 1.0, "error_rate": 0.0,
    ...                            "memory_percent": 55.0})]
    ['low_hit_rate']

    Args:
        snapshot: metric name -> value, or an object with ``metrics()`` (a
            simulation's ``SimResult`` or ``SimSummary``).
        rules: the rules to check; the guide's four by default.
        missing: what to do when a rule's metric is absent or NaN: ``"alert"``
            (default) returns an ``Alert`` with ``value=None`` saying so, ``"raise"``
            raises ``KeyError``, ``"skip"`` ignores that rule.

    Returns:
        One ``Alert`` per rule that fired (or could not be checked).

    Raises:
        KeyError: a metric is missing and ``missing="raise"``.
        ValueError: ``missing`` is not one of the three choices.
    """
    if missing not in ("alert", "raise", "skip"):
        raise ValueError(f"missing must be 'alert', 'raise' or 'skip', got {missing!r}")
    snapshot = as_snapshot(snapshot)
    alerts: list[Alert] = []
    for rule in rules:
        raw = snapshot.get(rule.metric)
        value = None if raw is None else float(raw)
        if value is None or math.isnan(value):
            if missing == "skip":
                continue
            alert = _missing_alert(rule, snapshot)
            if missing == "raise":
                raise KeyError(alert.message)
            alerts.append(alert)
        elif rule.fires(value):
            text = rule.message.format(value=value, threshold=rule.threshold, metric=rule.metric)
            alerts.append(Alert(rule, value, text))
    return alerts


class EventKind(enum.Enum):
    """Whether an alert started or stopped."""

    FIRED = "fired"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertEvent:
    """A change in an alert's state at clock time ``at``."""

    kind: EventKind
    alert: Alert
    at: float


class AlertTracker:
    """Evaluates rules repeatedly and reports only what changed.

    A rule that keeps firing is reported once when it fires and once when it
    resolves, not on every evaluation (an alert that repeats itself every second
    soon gets muted).

    Args:
        rules: the rules; the guide's four by default.
        clock: stamps the events; the monotonic clock by default.
        missing: passed to ``evaluate``.
    """

    def __init__(
        self,
        rules: Iterable[AlertRule] = DEFAULT_RULES,
        *,
        clock: Clock | None = None,
        missing: Literal["alert", "raise", "skip"] = "alert",
    ) -> None:
        self.rules = tuple(rules)
        self._clock = default_clock(clock)
        self._missing: Literal["alert", "raise", "skip"] = missing
        self._active: dict[str, Alert] = {}
        self.history: list[AlertEvent] = []

    @property
    def active(self) -> list[Alert]:
        """The alerts firing after the last update."""
        return list(self._active.values())

    def update(self, snapshot: Mapping[str, float] | HasMetrics) -> list[AlertEvent]:
        """Evaluate ``snapshot``; return (and keep in ``history``) the new events."""
        now = self._clock.now()
        current = {a.name: a for a in evaluate(snapshot, self.rules, missing=self._missing)}
        events = [
            AlertEvent(EventKind.FIRED, a, now) for n, a in current.items() if n not in self._active
        ]
        events += [
            AlertEvent(EventKind.RESOLVED, a, now)
            for n, a in self._active.items()
            if n not in current
        ]
        self._active = current
        self.history.extend(events)
        return events

    def __repr__(self) -> str:
        names = ", ".join(self._active) or "none"
        return f"<AlertTracker [{len(self.rules)} rules, firing: {names}]>"
