"""Wrong answers for exercise 12 (Little, Erlang C, scaling, balancing, USL): one spoil per check.

See test_exercise_checks: each spoil runs after the solution's cells and must make exactly
the named check fail.
"""

from __future__ import annotations

_NB = "12_little_and_scaling"

_SWAPPED_RULE = """
def guide_policy(workers, cpu_percent, queue_length):
    if cpu_percent <= 50:
        return min(workers + 1, max_workers)
    if cpu_percent >= 80:
        return max(workers - 1, 1)
    return workers
"""

_LONGER_QUEUE = """
def two_choices(queue_lengths, first, second, i):
    return first if queue_lengths[first] >= queue_lengths[second] else second
"""

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (_NB, "12.little", "arrival rate (per second)", "arrival_rate = rate_per_s"),
    (
        _NB,
        "12.little",
        "mean time in the system (s)",
        "mean_time_s = float(frame.latency_s.median())",
    ),
    (_NB, "12.little", "L by Little's law", "items_by_law = arrival_rate / mean_time_s"),
    (_NB, "12.little", "mean number counted in the system", "items_counted = items_by_law"),
    (_NB, "12.erlang", "fewest servers with P(wait) at most the target", "servers_needed += 1"),
    (_NB, "12.erlang", "servers for the mean-wait target", "servers_for_wait += 1"),
    (
        _NB,
        "12.erlang",
        "simulated share of customers who waited",
        "simulated_prob_wait = formulas.erlang_c(arrival_rate_erl, service_rate, servers_needed).prob_wait",
    ),
    (_NB, "12.scaling", "guide_policy at the thresholds and the limits", _SWAPPED_RULE),
    (
        _NB,
        "12.scaling",
        "worker count after each step of the day",
        "workers_by_step = run_day(guide_policy, cores=day_cores + 1, seed=seed).workers",
    ),
    (_NB, "12.scaling", "changes of the worker count", "changes = len(workers_by_step) - 1"),
    (
        _NB,
        "12.scaling",
        "reversals (a change opposite to the one before)",
        "reversals = sum(1 for a, b in zip(moves, moves[1:]) if a * b > 0)",
    ),
    (
        _NB,
        "12.scaling",
        "P50 under the rule / P50 of the fixed pool",
        "p50_ratio = guide_day.latencies.summary().p99_s / fixed_day.latencies.summary().p99_s",
    ),
    (_NB, "12.balance", "two_choices on sample queues", _LONGER_QUEUE),
    (
        _NB,
        "12.balance",
        "P99 of your balancer's run (s)",
        "mine = run_balance('round-robin', lb_cluster)",
    ),
    (_NB, "12.balance", "random's P99 / your P99", "p99_ratio = mine.p99_s / rand.p99_s"),
    (
        _NB,
        "12.balance",
        "requests in the system by Little's law",
        "in_system_by_law = lb_cluster.arrival_rate * mine.p50_s",
    ),
    (
        _NB,
        "12.usl",
        "fitted λ, σ and κ",
        "fit = formulas.usl_fit(concurrency[:-2], throughput[:-2])",
    ),
    (
        _NB,
        "12.usl",
        "the fit's peak throughput and the best measured",
        "peak_throughput = fit.predict(max(concurrency))",
    ),
    (
        _NB,
        "12.usl",
        "lock cap / fitted ceiling",
        "cap_over_ceiling = lock_cap / fit.peak_throughput",
    ),
    (
        _NB,
        "12.usl",
        "extrapolation error beyond the range",
        "extrapolation_error = simulated_far / extrapolated - 1",
    ),
    (
        _NB,
        "12.usl",
        "what the fit tells honestly (within 10%)",
        "honest = {**honest, 'ceiling': True}",
    ),
]
