"""Benchmark what the grader's isolation costs per notebook, as ratios in one run.

    .venv/bin/python benchmarks/grading_isolation.py [--repeats 3]

Grades one small exercise notebook (one exercise, one seed) again and again, in four
ways, interleaved so that the machine's load falls on each alike:

* ``pid-namespace`` (the default on Linux): a PID and mount namespace per run, the jail
  (hidden home and solutions, read-only checkout, private /tmp), a throwaway uid when
  root, and setrlimit;
* ``subreaper``: no namespace and no jail (setrlimit only);
* each with the reference solution's run (a cold cache each time, as for the first
  learner of a room) or without references (the notebook's own checks decide).

Prints one table: the median seconds per notebook of each way, and its ratio to the
fastest. Timings vary with the machine and its load; the ratios are what to read.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perflab.grading.reference import ReferenceCache
from perflab.grading.runner import CheckOptions, check_notebook
from tests.grading._helpers import exercise, notebook, references, write


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="perflab-bench-"))
    refs = references(folder / "refs", "a")
    path = write(notebook(*exercise("a"), exercises=["a"]), folder / "learner.ipynb")
    ways = {
        ("pid-namespace", "reference"): refs,
        ("pid-namespace", "own checks"): (),
        ("subreaper", "reference"): refs,
        ("subreaper", "own checks"): (),
    }
    times: dict[tuple[str, str], list[float]] = {way: [] for way in ways}
    for _ in range(args.repeats):
        for (isolation, checks), dirs in ways.items():
            options = CheckOptions(
                seeds=(5,),
                timeout_s=60,
                isolation=isolation,
                reference_dirs=tuple(dirs),
                cache=ReferenceCache(),
            )
            started = time.monotonic()
            report = check_notebook(path, options)
            times[(isolation, checks)].append(time.monotonic() - started)
            assert any(r.status.value == "passed" for r in report.results), report
    medians = {way: statistics.median(t) for way, t in times.items()}
    fastest = min(medians.values())
    print(f"{'isolation':<15} {'expected values from':<22} {'s/notebook':>10} {'ratio':>6}")
    for (isolation, checks), median in medians.items():
        print(f"{isolation:<15} {checks:<22} {median:>10.1f} {median / fastest:>6.2f}")
    print(f"({args.repeats} repeats each, interleaved; one exercise, one seed, cold cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
