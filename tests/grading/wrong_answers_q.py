"""Wrong answers for exercises 09 and 10: one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

_RERUN_BREAKER = (
    "async def _bad():\n"
    "    s = FlakyService(seed)\n"
    "    b = CircuitBreaker({args})\n"
    "    return s, b, await drive(lambda: b.acall(s.call))\n"
    "service, breaker, outcomes = run_virtual(_bad())"
)
_RERUN_RETRY = (
    "async def _bad():\n"
    "    s = FlakyService(seed)\n"
    "    b = CircuitBreaker(failure_threshold, recovery_timeout_s, clock=LoopClock())\n"
    "    r = Retry(attempts, wait_initial_s, wait_max_s, clock=LoopClock(), {rng})\n"
    "    return s, b, r, await drive(lambda: {call})\n"
    "r_service, r_breaker, retry, r_outcomes = run_virtual(_bad())"
)
# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    ("09_alerts", "09.windows", "number of windows", "window_p95 = window_p95[:-1]"),
    (
        "09_alerts",
        "09.windows",
        "P95 per window (within 1e-9 relative)",
        "window_p95 = np.array([np.percentile(latency[window == k], 90) for k in range(n_windows)])",
    ),
    ("09_alerts", "09.windows", "error rate per window (within 1e-9)", "window_error_rate *= 100"),
    (
        "09_alerts",
        "09.windows",
        "hit rate per window (within 1e-9)",
        "window_hit_rate = 1 - window_hit_rate",
    ),
    ("09_alerts", "09.alerts", "rules in the answer", "del firing['slow_p95']"),
    (
        "09_alerts",
        "09.alerts",
        "windows where low_hit_rate fires",
        "firing['low_hit_rate'].append(len(window_p95))",
    ),
    (
        "09_alerts",
        "09.alerts",
        "windows where slow_p95 fires",
        "firing['slow_p95'] = [k for k in range(len(window_p95)) if window_p95[k] > 5]",
    ),
    (
        "09_alerts",
        "09.alerts",
        "windows where high_error_rate fires",
        "firing['high_error_rate'] = list(range(len(window_p95)))",
    ),
    (
        "09_alerts",
        "09.omission",
        "one latency per scheduled request, each way",
        "latency_sent = latency_sent[1:]",
    ),
    (
        "09_alerts",
        "09.omission",
        "no request is faster from its intended start than from its send",
        "latency_intended, latency_sent = latency_sent, latency_intended",
    ),
    (
        "09_alerts",
        "09.omission",
        "P99 from the intended start (s)",
        "p99_intended = float(np.percentile(latency_sent, 99))",
    ),
    (
        "09_alerts",
        "09.omission",
        "P99 from the actual send (s)",
        "p99_sent = float(np.percentile(latency_sent, 95))",
    ),
    (
        "09_alerts",
        "09.omission",
        "requests over the SLO, from the intended start",
        "slow_intended = int((latency_sent > co_slo_s).sum())",
    ),
    (
        "09_alerts",
        "09.omission",
        "requests over the SLO, from the actual send",
        "slow_sent = int((latency_intended > co_slo_s).sum())",
    ),
    (
        "10_breaker",
        "10.breaker",
        "calls that reached the dead service",
        "dead_calls = bare.while_down",
    ),
    (
        "10_breaker",
        "10.breaker",
        "the breaker opened at the failure_threshold-th failure",
        _RERUN_BREAKER.format(args="failure_threshold + 1, recovery_timeout_s, clock=LoopClock()"),
    ),
    (
        "10_breaker",
        "10.breaker",
        "each half-open came recovery_timeout after the breaker opened",
        _RERUN_BREAKER.format(args="failure_threshold, 2 * recovery_timeout_s, clock=LoopClock()"),
    ),
    (
        "10_breaker",
        "10.breaker",
        "the breaker closed again after the outage",
        _RERUN_BREAKER.format(args="failure_threshold, recovery_timeout_s"),  # real clock
    ),
    (
        "10_breaker",
        "10.breaker",
        "requests refused by the breaker",
        "rejected = outcomes['failed']",
    ),
    (
        "10_breaker",
        "10.breaker",
        "time the breaker first opened (s)",
        "first_open_at = down_from_s",
    ),
    (
        "10_breaker",
        "10.breaker",
        "seconds from the outage's end to closing",
        "recovered_after_s = breaker.transitions[-1].at - down_from_s",
    ),
    (
        "10_breaker",
        "10.retry",
        "every try went through the breaker (tries = let through + refused)",
        _RERUN_RETRY.format(rng="rng=random.Random(seed)", call="b.acall(lambda: r.acall(s.call))"),
    ),
    (
        "10_breaker",
        "10.retry",
        "no refused call was retried",
        _RERUN_RETRY.format(
            rng="rng=random.Random(seed), retry_on=(ServiceError, CircuitOpen)",
            call="r.acall(lambda: b.acall(s.call))",
        ),
    ),
    (
        "10_breaker",
        "10.retry",
        "each wait was drawn from [0, cap] (full jitter)",
        "class _Capped(random.Random):\n"
        "    def uniform(self, a, b):\n"
        "        return 2 * b\n"
        + _RERUN_RETRY.format(rng="rng=_Capped(seed)", call="r.acall(lambda: b.acall(s.call))"),
    ),
    (
        "10_breaker",
        "10.retry",
        "calls that reached the dead service (with retries)",
        "retry_dead_calls = r_service.calls",
    ),
    ("10_breaker", "10.retry", "the waits, as Retry chose them", "waits = waits[1:]"),
]
