"""Wrong answers for exercises 04, 06 and 13: one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "04_resources",
        "04.memory",
        "entries in the unbounded dict",
        "unbounded_entries = n_queries",
    ),
    (
        "04_resources",
        "04.memory",
        "the dict cache embedded each distinct text once, and only then",
        "dict_embedder.embed(['again'])",
    ),
    ("04_resources", "04.memory", "entries in the LRU", "lru_entries = unbounded_entries"),
    (
        "04_resources",
        "04.memory",
        "bytes of vectors in the unbounded dict",
        "unbounded_bytes = unbounded_entries * dim * 8",
    ),
    ("04_resources", "04.memory", "bytes of vectors in the LRU", "lru_bytes = lru_size * dim * 8"),
    (
        "04_resources",
        "04.memory",
        "unbounded dict hit rate",
        "dict_hit_rate = dict_hits / unbounded_entries",
    ),
    ("04_resources", "04.memory", "LRU hit rate", "lru_hit_rate = dict_hit_rate"),
    (
        "04_resources",
        "04.memory",
        "the LRU sent each miss to the embedder once",
        "lru_embedder.embed(['again'])",
    ),
    (
        "04_resources",
        "04.alerts",
        "snapshots in which each rule was firing",
        "firing_windows['slow_p95'] += 1",
    ),
    (
        "04_resources",
        "04.alerts",
        "times each rule fired",
        "fired = {name: int(n > 0) for name, n in fired.items()}",
    ),
    ("04_resources", "04.alerts", "flaps per rule", "flaps = dict.fromkeys(flaps, 0)"),
    (
        "04_resources",
        "04.alerts",
        "the tracker saw every snapshot on the simulated clock",
        "clock.advance(60)",
    ),
]
WRONG += [
    (
        "06_parallelism",
        "06.predict",
        "mean tokens per call",
        "tokens_per_call = llm.input_tokens + llm.output_tokens",
    ),
    (
        "06_parallelism",
        "06.predict",
        "the API's ceiling in calls per second",
        "ceiling = min(llm.rpm, llm.tpm / tokens_per_call)",
    ),
    (
        "06_parallelism",
        "06.predict",
        "seconds a worker holds its slot (1 worker)",
        "w_slot = float(one['latency_s'].mean())",
    ),
    ("06_parallelism", "06.predict", "N* by Little's law", "n_star = ceiling / w_slot"),
    (
        "06_parallelism",
        "06.sweep",
        "one run per worker count 1..max_workers, each with that many workers",
        "runs[3] = runs[2]",
    ),
    ("06_parallelism", "06.sweep", "429s per worker count", "rate_limited[max_workers] = 0"),
    (
        "06_parallelism",
        "06.sweep",
        "the knee (last worker count without a 429)",
        "knee = min(n for n, c in rate_limited.items() if c > 0)",
    ),
    ("06_parallelism", "06.little", "L = λ × W for every run (within 1e-9)", "little_l[1] *= 1.01"),
    (
        "06_parallelism",
        "06.little",
        "L comes within l_tolerance of the worker count on every run",
        "little_l = {n: r.summary.completed / r.summary.duration_s * r.summary.mean_latency_s"
        " for n, r in runs.items()}",
    ),
]
