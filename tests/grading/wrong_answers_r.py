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
        (
            "little_l = {n: r.summary.completed / r.summary.duration_s * r.summary.mean_latency_s"
            " for n, r in runs.items()}"
        ),
    ),
]
WRONG += [
    (
        "13_adaptive_cache",
        "13.rule",
        "lowers the threshold by 5% when the hit rate is below 0.5",
        "next_threshold = lambda t, h: t * 0.9 if h < 0.5 else min(t * 1.05, 1.0) if h > 0.9 else t",
    ),
    (
        "13_adaptive_cache",
        "13.rule",
        "leaves the threshold alone for hit rates from 0.5 to 0.9",
        "next_threshold = lambda t, h: t * 0.95 if h <= 0.5 else min(t * 1.05, 1.0) if h > 0.9 else t",
    ),
    (
        "13_adaptive_cache",
        "13.rule",
        "raises the threshold by 5% above 0.9, never past 1.0",
        "next_threshold = lambda t, h: t * 0.95 if h < 0.5 else t * 1.05 if h > 0.9 else t",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "one lookup per request in each cache",
        "dynamic_cache.lookup('one more')",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "the threshold after each window (within 1e-9)",
        "thresholds = thresholds[1:]",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "hit rate at the fixed threshold",
        "fixed_hit_rate = dynamic_hit_rate",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "false hits at the fixed threshold",
        "fixed_false_hits = dynamic_stats.false_hits",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "hit rate under the rule",
        "dynamic_hit_rate = fixed_hit_rate",
    ),
    (
        "13_adaptive_cache",
        "13.drift",
        "false hits / hits under the rule",
        "dynamic_false_hit_rate = dynamic_stats.false_hits / dynamic_stats.lookups",
    ),
    (
        "13_adaptive_cache",
        "13.ttl",
        "every request was served, over mt_days simulated days",
        "clock.advance(1.0)",
    ),
    (
        "13_adaptive_cache",
        "13.ttl",
        "stale entries after the months",
        "stale_count = len(created)",
    ),
    (
        "13_adaptive_cache",
        "13.ttl",
        "your count agrees with the cache's stats().stale_entries before cleanup",
        "stats_before = ttl_cache.stats()",
    ),
    (
        "13_adaptive_cache",
        "13.ttl",
        "stale share of the entries",
        "stale_share = stale_count / len(months_stream)",
    ),
    ("13_adaptive_cache", "13.ttl", "entries cleanup() removed", "removed = ttl_cache.cleanup()"),
    (
        "13_adaptive_cache",
        "13.ttl",
        "entries left after cleanup()",
        "entries_after = stats_before.entries",
    ),
    (
        "13_adaptive_cache",
        "13.ttl",
        "nothing stale is left after cleanup()",
        "ttl_cache.put('late', 'article', ttl_days=0.5); clock.advance(DAY_S)",
    ),
]
