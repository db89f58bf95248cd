"""Benchmark the simulator: speed, memory, and simulate_mmc against SimPy.

    /work/venv/bin/python benchmarks/sim.py [--quick]

Prints one table:
* simulated articles per wall-clock second, agency scenario, 10^4 articles (aim >= 5,000);
* peak Python memory (tracemalloc) while simulating 10^5 requests;
* simulate_mmc vs SimPy on the same M/M/3 model, 10^5 customers: wall time ratio (aim
  <= 1.5), and both mean waits beside Erlang C.

Timings are the median of several repetitions after a warm-up run; they vary with the
machine and its load, so the table says what it measured, on what.
"""

from __future__ import annotations

from harness import aligned_table, have, machine_line, median_time  # first

# isort: split
import argparse
import tracemalloc

import numpy as np

from perflab.formulas import erlang_c
from perflab.sim import simulate, simulate_mmc


def simpy_mmc(lam: float, mu: float, servers: int, customers: int, seed: int) -> float:
    """The textbook SimPy M/M/c: a process per customer, a Resource for the servers."""
    import simpy

    rng = np.random.default_rng(seed)
    inter = rng.exponential(1 / lam, customers).tolist()
    service = rng.exponential(1 / mu, customers).tolist()
    env = simpy.Environment()
    counter = simpy.Resource(env, capacity=servers)
    waits: list[float] = []

    def customer(i: int):  # type: ignore[no-untyped-def]
        arrived = env.now
        with counter.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(service[i])

    def source():  # type: ignore[no-untyped-def]
        for i in range(customers):
            yield env.timeout(inter[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return sum(waits) / len(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    rows: list[tuple[str, str, str]] = []

    n = 10_000
    wall, result = median_time(lambda: simulate("agency", requests=n, seed=1), repeats)
    rows.append(("agency, 10^4 articles: wall time", f"{wall:.3f} s", ""))
    rows.append(("  simulated articles per wall second", f"{n / wall:,.0f}", "aim >= 5,000"))
    rows.append(("  virtual time simulated", f"{result.summary.duration_s:,.0f} s", ""))

    tracemalloc.start()
    simulate("agency", requests=100_000, seed=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows.append(("peak memory, 10^5 requests (tracemalloc)", f"{peak / 2**20:.1f} MiB", ""))

    lam, mu, c, customers = 2.4, 1.0, 3, 100_000
    ours, ours_result = median_time(lambda: simulate_mmc(lam, mu, c, customers, seed=1), repeats)
    theory = erlang_c(lam, mu, c).mean_wait_s
    rows.append(("M/M/3 load 0.8, 10^5 customers: simulate_mmc", f"{ours:.3f} s", ""))
    if have("simpy"):
        theirs, simpy_mean = median_time(lambda: simpy_mmc(lam, mu, c, customers, seed=1), repeats)
        rows.append(("  SimPy (process per customer + Resource)", f"{theirs:.3f} s", ""))
        rows.append(
            ("  wall-time ratio simulate_mmc / SimPy", f"{ours / theirs:.2f}", "aim <= 1.5")
        )
    else:
        rows.append(("  SimPy (process per customer + Resource)", "not installed", ""))
    rows.append(("  mean wait: Erlang C", f"{theory:.4f} s", ""))
    rows.append(("  mean wait: simulate_mmc (one run)", f"{ours_result.mean_wait_s:.4f} s", ""))
    if have("simpy"):
        rows.append(("  mean wait: SimPy (one run)", f"{simpy_mean:.4f} s", ""))

    print(machine_line("perflab.sim benchmark", median_of=f"{repeats} after a warm-up"))
    aligned_table(rows)
    print(
        "One run of either M/M/c wanders from Erlang C by chance; tests/sim/test_queueing.py "
        "checks the formula against replications."
    )


if __name__ == "__main__":
    main()
