"""Wrong answers for exercises 08, 11 and 15: one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

_POOL_MIN_0 = (
    "async def _bad():\n"
    "    db = FakeDatabase(seed)\n"
    "    async with ConnectionPool(db.connect, min_size=0, max_size=pool_max, clock=LoopClock()) as p:\n"
    "        for _ in range(n_requests):\n"
    "            async with p.connection() as c:\n"
    "                await c.execute('select 1')\n"
    "        return p.stats()\n"
    "pool_stats = run_virtual(_bad())"
)
_POOL_PER_REQUEST = (
    "async def _bad():\n"
    "    db = FakeDatabase(seed)\n"
    "    for _ in range(n_requests):\n"
    "        async with ConnectionPool(db.connect, min_size=pool_min, max_size=pool_max,\n"
    "                                  clock=LoopClock()) as p:\n"
    "            async with p.connection() as c:\n"
    "                await c.execute('select 1')\n"
    "    return p.stats()\n"
    "pool_stats = run_virtual(_bad())"
)
_TOGETHER = "experiments = [{}, {'parallel_workers': 6, 'cache_similarity_threshold': 0.75}]"
# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "08_pooling",
        "08.fresh",
        "connections opened without a pool (one per request)",
        "fresh_db = pooled_db",
    ),
    (
        "08_pooling",
        "08.fresh",
        "mean latency with a fresh connection per request (s)",
        "fresh_mean_s = pooled_mean_s + 3 * rtt_s",
    ),
    ("08_pooling", "08.fresh", "connections the pool created", _POOL_MIN_0),
    (
        "08_pooling",
        "08.fresh",
        "borrows served by a connection that already existed",
        _POOL_PER_REQUEST,
    ),
    (
        "08_pooling",
        "08.fresh",
        "mean latency of a pooled request (s)",
        "pooled_mean_s = fresh_mean_s / 4",
    ),
    (
        "08_pooling",
        "08.fresh",
        "speed-up (fresh over pooled)",
        "speedup = pooled_mean_s / fresh_mean_s",
    ),
    (
        "08_pooling",
        "08.saturation",
        "connections created per client count",
        "created = [min(c, pool_max) for c in clients_levels]",
    ),
    (
        "08_pooling",
        "08.saturation",
        "no pool grew past max_size",
        "created = [*created[:-1], pool_max + 1]",
    ),
    (
        "08_pooling",
        "08.saturation",
        "wait P95 per client count (within 1e-9 relative)",
        "wait_p95_s = wait_p95_s[::-1]",
    ),
    (
        "08_pooling",
        "08.erlang",
        "connections busy on average (Little's law)",
        "in_use = arrival_rate / hold_mean_s",
    ),
    (
        "08_pooling",
        "08.erlang",
        "enough connections: Erlang C P(wait) is at most the target",
        "pool_size -= 1",
    ),
    (
        "08_pooling",
        "08.erlang",
        "no more than needed: one connection fewer misses the target",
        "pool_size += 1",
    ),
    (
        "08_pooling",
        "08.erlang",
        "the simulated pool opened exactly pool_size connections and never more",
        "erlang_stats, waits = run_virtual(open_loop(pool_size + 1))",
    ),
    (
        "08_pooling",
        "08.erlang",
        "simulated share of requests that waited",
        "simulated_prob_wait = erlang_c(arrival_rate, 1 / hold_mean_s, pool_size).prob_wait",
    ),
    (
        "11_indexing",
        "11.exact",
        "the exact store's answers match a brute-force scan of every vector",
        "truth = [ivf.search('docs', q)[0].id for q in queries]",
    ),
    (
        "11_indexing",
        "11.exact",
        "the IVF store holds every vector in trained lists",
        "ivf = MemoryStore(index='ivf', nprobe=1); ivf.add_many('docs', entries)",
    ),
    ("11_indexing", "11.exact", "number of IVF lists", "nlist = ivf.index_stats().nprobe"),
    (
        "11_indexing",
        "11.recall",
        "recall@1 for each nprobe (within 1e-9)",
        "recall = [1 - r for r in recall]",
    ),
    (
        "11_indexing",
        "11.recall",
        "recall@1 never falls as nprobe grows",
        "recall = recall[::-1]",
    ),
    (
        "11_indexing",
        "11.recall",
        "recall@1 with every list scanned",
        "recall_all_lists = recall[0]",
    ),
    (
        "11_indexing",
        "11.target",
        "the recall at your nprobe reaches the target",
        "smallest_nprobe = 1",
    ),
    (
        "11_indexing",
        "11.target",
        "no smaller nprobe reaches the target",
        "smallest_nprobe = nlist",
    ),
    (
        "11_indexing",
        "11.target",
        "share of the lists scanned",
        "scanned_share = smallest_nprobe / n_vectors",
    ),
    (
        "15_capstone",
        "15.baseline",
        "the baseline's P95 (s)",
        "baseline_p95_s = baseline.summary.p99_latency_s",
    ),
    (
        "15_capstone",
        "15.baseline",
        "the baseline's cost per delivered article ($)",
        "baseline_cost_usd = baseline.summary.cost_usd / n_requests * 0.9",
    ),
    (
        "15_capstone",
        "15.experiments",
        "the first experiment is the baseline (no changes)",
        "experiments = experiments[1:]",
    ),
    (
        "15_capstone",
        "15.experiments",
        "each experiment changes exactly one setting from the one before",
        _TOGETHER,
    ),
    (
        "15_capstone",
        "15.experiments",
        "only the tunable settings were changed",
        "experiments = [*experiments, {**experiments[-1], 'perflab_embedder': 'hashing'}]",
    ),
    (
        "15_capstone",
        "15.final",
        "your configuration is one you measured",
        "chosen = {**chosen, 'connection_pool_max': 20}",
    ),
    (
        "15_capstone",
        "15.final",
        "P95 of your configuration, re-simulated, is within the SLO",
        "chosen = {'cache_similarity_threshold': 0.75}",
    ),
    (
        "15_capstone",
        "15.final",
        "cost per article of your configuration, re-simulated, is within the budget",
        "chosen = {'parallel_workers': 8, 'cache_similarity_threshold': 0.9}",
    ),
    (
        "15_capstone",
        "15.final",
        "false hits of your configuration stay within the quality floor",
        "chosen = {'parallel_workers': 8, 'cache_similarity_threshold': 0.6}",
    ),
    (
        "15_capstone",
        "15.final",
        "the P95 you reported for your configuration (s)",
        "chosen_p95_s = baseline_p95_s",
    ),
    (
        "15_capstone",
        "15.final",
        "the cost per article you reported ($)",
        "chosen_cost_usd = budget_per_article_usd",
    ),
]
