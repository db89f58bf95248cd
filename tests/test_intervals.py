"""Tests for perflab.intervals (was perflab.stats): the t quantile and confidence intervals."""

from __future__ import annotations

import math
import random
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.intervals import MeanCI, diff_ci, mean_ci, paired_ci, replicate, t_cdf, t_quantile


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.995, 9, 3.2498),
        (0.975, 29, 2.0452),
        (0.975, 1, 12.7062),
        (0.995, 1, 63.6567),
        (0.95, 2, 2.9200),
        (0.975, 4, 2.7764),
        (0.995, 30, 2.7500),
        (0.975, 120, 1.9799),
    ],
)
def test_t_quantile_matches_published_tables(p: float, df: float, expected: float) -> None:
    """The t quantile agrees with printed t tables to four decimals."""
    assert t_quantile(p, df) == pytest.approx(expected, abs=6e-5)


def test_t_quantile_approaches_the_normal_for_large_df() -> None:
    """With a million degrees of freedom, t is the normal quantile to 1e-5."""
    z = statistics.NormalDist().inv_cdf(0.975)
    assert t_quantile(0.975, 1_000_000) == pytest.approx(z, abs=1e-5)


def test_t_quantile_is_symmetric_and_zero_at_the_median() -> None:
    """t(p) = -t(1 - p) and t(0.5) = 0."""
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.025, 7) == pytest.approx(-t_quantile(0.975, 7))


def _t_cdf_by_integration(t: float, df: float) -> float:
    xs = np.linspace(0.0, t, 200_001)
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    pdf = np.exp(log_c - (df + 1) / 2 * np.log1p(xs * xs / df))
    area = float(np.sum((pdf[1:] + pdf[:-1]) / 2 * np.diff(xs)))
    return 0.5 + area


@pytest.mark.parametrize(("t", "df"), [(1.3, 2.5), (2.0, 0.7), (0.4, 13.3)])
def test_t_cdf_matches_numerical_integration(t: float, df: float) -> None:
    """The CDF agrees with a trapezoid integral of the density, also for fractional df."""
    assert t_cdf(t, df) == pytest.approx(_t_cdf_by_integration(t, df), abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.001, 0.999), st.floats(0.5, 500.0))
def test_t_quantile_inverts_the_cdf(p: float, df: float) -> None:
    """cdf(quantile(p)) gives back p."""
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize(("p", "df"), [(0.0, 5), (1.0, 5), (0.5, 0), (0.5, -1)])
def test_t_quantile_refuses_bad_arguments(p: float, df: float) -> None:
    """p outside (0, 1) or df <= 0 raises ValueError."""
    with pytest.raises(ValueError):
        t_quantile(p, df)


def test_mean_ci_by_hand() -> None:
    """Ten values give mean +/- t(0.995, 9) s / sqrt(10)."""
    samples = [9.8, 10.1, 10.0, 9.7, 10.4, 10.2, 9.9, 10.3, 10.0, 9.6]
    ci = mean_ci(samples)
    s = statistics.stdev(samples)
    assert ci.mean == pytest.approx(statistics.fmean(samples))
    assert ci.half_width == pytest.approx(3.2498355 * s / math.sqrt(10), rel=1e-6)
    assert ci.low == pytest.approx(ci.mean - ci.half_width)
    assert ci.high == pytest.approx(ci.mean + ci.half_width)
    assert (ci.n, ci.confidence) == (10, 0.99)
    assert ci.std == pytest.approx(s)


def test_mean_ci_narrows_with_lower_confidence() -> None:
    """A 95% interval is narrower than a 99% one on the same data."""
    samples = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert mean_ci(samples, 0.95).half_width < mean_ci(samples, 0.99).half_width


def test_mean_ci_of_constant_samples_has_zero_width() -> None:
    """Identical samples give a zero-width interval."""
    ci = mean_ci([2.5, 2.5, 2.5])
    assert (ci.low, ci.high, ci.half_width) == (2.5, 2.5, 0.0)


@pytest.mark.parametrize(
    ("samples", "confidence", "message"),
    [
        ([1.0], 0.99, "at least 2"),
        ([], 0.99, "at least 2"),
        ([1.0, float("nan")], 0.99, "NaN"),
        ([1.0, 2.0], 1.0, "confidence"),
        ([1.0, 2.0], 0.0, "confidence"),
    ],
)
def test_mean_ci_refuses_bad_input(samples: list[float], confidence: float, message: str) -> None:
    """Too few samples, NaN, or a confidence outside (0, 1) raise ValueError."""
    with pytest.raises(ValueError, match=message):
        mean_ci(samples, confidence)


def test_mean_ci_covers_the_true_mean_about_as_often_as_promised() -> None:
    """Over 2000 normal samples of size 8, the 95% interval covers the mean 93-97% of the time."""
    rng = np.random.default_rng(1)
    covered = sum(
        mean_ci(rng.normal(5.0, 2.0, 8).tolist(), 0.95).contains(5.0) for _ in range(2000)
    )
    assert 0.93 <= covered / 2000 <= 0.97


def test_replicate_calls_fn_once_per_seed() -> None:
    """replicate passes each seed to fn exactly once and summarises the results."""
    seen: list[int] = []

    def fn(seed: int) -> float:
        seen.append(seed)
        return random.Random(seed).gauss(10.0, 1.0)

    ci = replicate(fn, range(20))
    assert seen == list(range(20))
    assert ci.n == 20 and ci.contains(ci.mean)


def test_replicate_is_deterministic_for_the_same_seeds() -> None:
    """The same seeds give the same interval."""

    def fn(seed: int) -> float:
        return random.Random(seed).random()

    assert replicate(fn, [1, 2, 3]) == replicate(fn, [1, 2, 3])


def test_diff_ci_detects_a_real_shift_and_not_noise() -> None:
    """A shift of 1 (sd 0.5, n 30) excludes 0; two draws from one distribution include it."""
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(11, 0.5, 30), rng.normal(10, 0.5, 30), rng.normal(10, 0.5, 30)
    assert not diff_ci(a.tolist(), b.tolist()).contains(0.0)
    assert diff_ci(b.tolist(), c.tolist()).contains(0.0)


def test_mean_ci_helpers() -> None:
    """overlaps, relative_half_width and str behave as documented."""
    a = MeanCI(10.0, 9.0, 11.0, 1.0, 5)
    b = MeanCI(12.5, 11.5, 13.5, 1.0, 5)
    assert not a.overlaps(b)
    assert a.overlaps(MeanCI(11.5, 10.5, 12.5, 1.0, 5))
    assert a.relative_half_width == pytest.approx(0.1)
    assert str(a) == "10 ± 1 (99% CI, n=5)"


# ------------------------------------------------ non-negative quantities (issue 12)


def test_nonnegative_clips_the_lower_bound_at_zero_and_says_so() -> None:
    """A rate that is mostly 0 has a t interval reaching below 0: clipped, and marked."""
    raw = mean_ci([0.0, 0.0, 0.0, 0.03])
    assert raw.low < 0 and not raw.clipped
    ci = mean_ci([0.0, 0.0, 0.0, 0.03], nonnegative=True)
    assert ci.low == 0.0 and ci.clipped
    assert (ci.mean, ci.high, ci.half_width) == (raw.mean, raw.high, raw.half_width)
    assert "lower bound clipped at 0" in str(ci)
    assert ci.bracket(".3g") == f"[0 (clipped), {raw.high:.3g}]"
    assert raw.bracket(".3g") == f"[{raw.low:.3g}, {raw.high:.3g}]"


def test_nonnegative_leaves_an_interval_above_zero_untouched() -> None:
    """Clipping only cuts what is impossible: a positive interval is the plain one."""
    samples = [10.0, 11.0, 12.0, 10.5]
    assert mean_ci(samples, nonnegative=True) == mean_ci(samples)
    assert not mean_ci(samples, nonnegative=True).clipped
    assert "clipped" not in mean_ci(samples, nonnegative=True).bracket()


def test_nonnegative_refuses_a_negative_sample() -> None:
    """A negative value cannot be a latency or a rate: declaring it non-negative is a bug."""
    with pytest.raises(ValueError, match="negative"):
        mean_ci([0.1, -0.2, 0.3], nonnegative=True)


def test_replicate_passes_nonnegative_on() -> None:
    """replicate(..., nonnegative=True) clips like mean_ci."""
    ci = replicate(lambda s: 1.0 if s == 0 else 0.0, range(4), nonnegative=True)
    assert ci.clipped and ci.low == 0.0


@given(st.lists(st.floats(0.0, 1e6), min_size=2, max_size=30))
@settings(max_examples=60, deadline=None)
def test_nonnegative_interval_never_starts_below_zero(samples: list[float]) -> None:
    """For any non-negative samples, low >= 0 and the interval still holds the mean."""
    ci = mean_ci(samples, nonnegative=True)
    assert ci.low >= 0.0
    assert ci.low <= ci.mean <= ci.high


# ------------------------------------------------------------- paired comparison


def test_paired_ci_is_the_interval_of_the_differences() -> None:
    """paired_ci(a, b) is mean_ci of a[i] - b[i], with n the number of pairs."""
    a, b = [3.0, 5.0, 4.0, 6.5], [2.0, 4.5, 3.2, 5.0]
    ci = paired_ci(a, b)
    assert ci == mean_ci([x - y for x, y in zip(a, b)])
    assert ci.n == 4


def test_pairing_narrows_the_interval_when_the_seeds_are_shared() -> None:
    """Under common random numbers (a big per-seed effect shared by both), the paired
    interval is far narrower than the unpaired one and finds a shift the unpaired misses."""
    rng = np.random.default_rng(5)
    seed_effect = rng.normal(0, 3.0, 8)  # luck of the seed, the same for both runs
    base = 20 + seed_effect + rng.normal(0, 0.2, 8)
    tuned = 19 + seed_effect + rng.normal(0, 0.2, 8)  # 1 lower on every seed
    paired, unpaired = (
        paired_ci(tuned.tolist(), base.tolist()),
        diff_ci(tuned.tolist(), base.tolist()),
    )
    assert paired.mean == pytest.approx(unpaired.mean)
    assert paired.half_width < unpaired.half_width / 5
    assert not paired.contains(0.0) and unpaired.contains(0.0)


def test_pairing_buys_nothing_for_independent_runs() -> None:
    """With independent runs there is no shared luck to cancel: over many trials the
    paired interval is not narrower on average (it has fewer degrees of freedom)."""
    rng = np.random.default_rng(6)
    ratios = []
    for _ in range(200):
        a, b = rng.normal(10, 1, 6), rng.normal(10, 1, 6)
        ratios.append(
            paired_ci(a.tolist(), b.tolist()).half_width
            / diff_ci(a.tolist(), b.tolist()).half_width
        )
    assert float(np.mean(ratios)) > 1.0


def test_paired_ci_refuses_unpaired_lengths() -> None:
    """Pairs need one value per seed on each side."""
    with pytest.raises(ValueError, match="same length"):
        paired_ci([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2"):
        paired_ci([1.0], [2.0])
