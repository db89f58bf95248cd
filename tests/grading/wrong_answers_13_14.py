"""Wrong answers for exercise 13.predict and the reworked exercise 14 (see test_exercise_checks).

Exercise 13's other parts keep theirs in wrong_answers_r.py. Exercise 14's old parts
(14.model, 14.measured) are gone: their entries in wrong_answers_q.py are obsolete.
"""

from __future__ import annotations

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "13_adaptive_cache",
        "13.predict",
        "predict_next_keywords on a small history",
        "predict_next_keywords = lambda h, k, n: [x for x, _ in h[k].most_common(n)][::-1]",
    ),
    (
        "13_adaptive_cache",
        "13.predict",
        "hits, misses, prefetches and used prefetches, no prefetching",
        "without = dict(without, hits=without['hits'] + 1)",
    ),
    (
        "13_adaptive_cache",
        "13.predict",
        "hits, misses, prefetches and used prefetches, with prefetching",
        "with_pf = dict(with_pf, used=with_pf['prefetches'])",
    ),
    (
        "13_adaptive_cache",
        "13.predict",
        "extra API calls per extra hit",
        "extra_calls_per_extra_hit = with_pf['misses'] / (with_pf['hits'] - without['hits'])",
    ),
    (
        "13_adaptive_cache",
        "13.predict",
        "prefetching did not lower the API bill (calls with >= calls without)",
        "calls_with = with_pf['misses']",
    ),
    (
        "14_cost",
        "14.claim",
        "throughput of each run (articles per hour)",
        "throughputs = {n: [v / 3600 for v in vs] for n, vs in throughputs.items()}",
    ),
    (
        "14_cost",
        "14.claim",
        "agency / baseline throughput, per seed",
        "ratios = [b / a for a, b in zip(throughputs['agency'], throughputs['baseline'])]",
    ),
    (
        "14_cost",
        "14.claim",
        "the interval around the mean ratio [low, high]",
        "ci = mean_ci(ratios, 0.95)",
    ),
    (
        "14_cost",
        "14.claim",
        "verdict(low, high, target) on five intervals",
        "verdict = lambda lo, hi, t: 'held' if hi >= t else 'did not hold'",
    ),
    (
        "14_cost",
        "14.claim",
        "verdict on the claim against the defaults",
        "claim_verdict = {'held': 'undecided'}.get(claim_verdict, 'held')",
    ),
    (
        "14_cost",
        "14.baseline",
        "agency / one worker throughput, per seed",
        "ratios_vs_one = ratios",
    ),
    (
        "14_cost",
        "14.baseline",
        "verdict on the claim against one worker",
        "verdict_vs_one = {'held': 'undecided'}.get(verdict_vs_one, 'held')",
    ),
]
