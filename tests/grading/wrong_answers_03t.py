"""Wrong answers for exercise 03.time_per_request: one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

_EX = "03.time_per_request"
# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "03_cache_economics",
        _EX,
        "expected time per request today (seconds)",
        # hits and misses swapped: a hit charged the API's time
        "expected_time_per_request = hit_rate * api_time_s + (1 - hit_rate) * cache_time_s",
    ),
    (
        "03_cache_economics",
        _EX,
        "hit rate of the timed run",
        "timed_hit_rate = hit_rate",  # today's scenario instead of the run's own count
    ),
    (
        "03_cache_economics",
        _EX,
        "simulated time per request (seconds)",
        # the formula's answer, as if a miss never paid for its failed lookup
        "measured_time_per_request = formula_time_per_request",
    ),
    (
        "03_cache_economics",
        _EX,
        "the formula's time per request at the timed run's hit rate",
        # the formula at today's hit rate, not at the timed run's
        "formula_time_per_request = expected_time_per_request",
    ),
]
