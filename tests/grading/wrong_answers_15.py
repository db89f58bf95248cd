"""Wrong answers for exercise 15's paired comparison (15.replications): one spoil per check.

The spoils for 15.baseline, 15.experiments and 15.final are in wrong_answers_s.py (with 08
and 11); this file holds the checks added for issue 12. See test_exercise_checks: each spoil
runs after the solution's cells and must make exactly the named check fail.
"""

from __future__ import annotations

_NB = "15_capstone"

# Not common random numbers: STEP_TO on other seeds than STEP_FROM, so no run has its pair.
_OTHER_SEEDS = (
    "p95_differences = [run(STEP_TO, s + 1000).summary.p95_latency_s - f"
    " for s, f in zip(REPLICATION_SEEDS, p95_from)]"
)

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        _NB,
        "15.replications",
        "per-seed P95 differences, STEP_TO minus STEP_FROM on the same seed (s)",
        _OTHER_SEEDS,
    ),
    (
        _NB,
        "15.replications",
        "the paired 99% interval [low, high] (s)",
        "paired_low, paired_high = unpaired_low, unpaired_high",
    ),
    (
        _NB,
        "15.replications",
        "the unpaired 99% interval [low, high] (s)",
        "unpaired_low, unpaired_high = paired_low, paired_high",
    ),
    (
        _NB,
        "15.replications",
        "your verdict from the paired interval",
        "p95_verdict = 'higher'",
    ),
]
