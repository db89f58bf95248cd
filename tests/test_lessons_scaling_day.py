"""Tests for perflab.lessons.scaling_day: lesson 12's simulated day under a scaling policy."""

from __future__ import annotations

import pytest

from perflab.lessons.scaling_day import (
    DAY,
    Day,
    count_changes,
    fixed,
    format_days,
    guide_rule,
    run_day,
)

SHORT = Day(
    duration_s=300.0, peak_at_s=150.0, peak_width_s=60.0, batch_from_s=200.0, batch_until_s=250.0
)


@pytest.mark.parametrize(
    ("workers", "expected"),
    [
        ([4, 4, 4], (0, 0)),
        ([4, 5, 6, 7], (3, 0)),
        ([4, 5, 4, 5], (3, 2)),
        ([4, 5, 5, 6, 5, 6], (4, 2)),
    ],
)
def test_count_changes_counts_moves_and_reversals(
    workers: list[int], expected: tuple[int, int]
) -> None:
    """A change is a step to a new count; a reversal is a change opposite to the one before."""
    assert count_changes(workers) == expected


def test_same_seed_same_day() -> None:
    """The day is seeded: two runs of one policy record the same timeline and latencies."""
    a, b = run_day(guide_rule(), day=SHORT), run_day(guide_rule(), day=SHORT)
    assert a.timeline == b.timeline
    assert a.summary() == b.summary()


def test_seed_argument_overrides_the_day() -> None:
    """``seed=`` draws another day."""
    assert (
        run_day(fixed(4), day=SHORT, seed=1).summary()
        != run_day(fixed(4), day=SHORT, seed=2).summary()
    )


def test_fixed_pool_never_changes_and_every_policy_sees_the_same_jobs() -> None:
    """A fixed pool keeps its count; the arrivals do not depend on the policy."""
    fixed_run, guide_run = run_day(fixed(3), day=SHORT), run_day(guide_rule(), day=SHORT)
    assert set(fixed_run.workers) == {3}
    assert fixed_run.summary().changes == 0
    assert len(fixed_run.timeline) == len(guide_run.timeline) == int(SHORT.duration_s / 5.0)


def test_policy_reads_cpu_and_queue() -> None:
    """The policy is called once per step with the CPU % (0-100) and the queue length."""
    seen: list[tuple[int, float, int]] = []

    def spy(workers: int, cpu: float, queue: int) -> int:
        seen.append((workers, cpu, queue))
        return workers

    run = run_day(spy, day=SHORT, step_s=10.0)
    assert len(seen) == len(run.timeline) == 30
    assert all(0.0 <= cpu <= 100.0 and queue >= 0 for _, cpu, queue in seen)
    assert min(cpu for _, cpu, _ in seen) >= SHORT.background_pct


def test_guide_rule_adds_workers_when_the_cpu_is_low() -> None:
    """On a quiet machine (CPU under 50 %) the guide's rule climbs to max_workers."""
    quiet = Day(duration_s=120.0, peak_jobs_per_s=1.0, base_jobs_per_s=1.0, batch_pct=0.0)
    run = run_day(guide_rule(max_workers=6), day=quiet, cores=8)
    assert run.workers[:3] == [5, 6, 6]


def test_lesson_day_shape() -> None:
    """The lesson's day: the arrival rate peaks mid-day and the batch job adds its CPU."""
    assert DAY.arrival_rate(DAY.peak_at_s) == pytest.approx(DAY.peak_jobs_per_s)
    assert DAY.arrival_rate(0.0) < DAY.base_jobs_per_s + 0.1
    assert DAY.background_cpu(1300.0) == DAY.background_pct + DAY.batch_pct
    assert DAY.params(cores=3)["cores"] == 3


def test_format_days_has_one_line_per_row() -> None:
    """The table has a header and a row per policy."""
    text = format_days({"fixed": run_day(fixed(4), day=SHORT).summary()})
    assert text.splitlines()[0].split()[:2] == ["policy", "jobs"]
    assert text.splitlines()[1].startswith("fixed")
