"""Wrong answers for exercises 01, 02, 05 and 07: one spoil per check (see test_exercise_checks)."""

from __future__ import annotations

# (notebook, exercise, what the check says it checks, code that spoils the answer)
WRONG = [
    (
        "01_percentiles",
        "01.percentiles",
        "P50 of today's latencies (any standard definition)",
        "p50 = float(latencies.mean())",
    ),
    (
        "01_percentiles",
        "01.percentiles",
        "P95 of today's latencies (any standard definition)",
        "p95 = float(np.percentile(latencies, 90))",
    ),
    (
        "01_percentiles",
        "01.percentiles",
        "P99 of today's latencies (any standard definition)",
        "p99 = float(latencies.max())",
    ),
    ("01_percentiles", "01.tail", "requests slower than the P99", "n_slower += 5"),
    (
        "01_percentiles",
        "01.tail",
        "share of requests slower than the P99",
        "share_slower = n_slower / 100",
    ),
    (
        "01_percentiles",
        "01.amplify",
        "chance of at least one call slower than the P99 (formula)",
        "p_any_slow = 0.01 * k_calls",
    ),
    (
        "01_percentiles",
        "01.amplify",
        "share of simulated articles with a call slower than the P99",
        "measured_any_slow = float(np.mean(calls > p99))",
    ),
    (
        "02_amdahl",
        "02.bottleneck",
        "the bottleneck stage",
        "bottleneck = min(shares, key=shares.get)",
    ),
    (
        "02_amdahl",
        "02.bottleneck",
        "the bottleneck's share P of the total time",
        "p_bottleneck *= 100",
    ),
    (
        "02_amdahl",
        "02.predict",
        "Amdahl's predicted speed-up",
        "predicted_speedup = 1 / (1 - p_bottleneck)",
    ),
    (
        "02_amdahl",
        "02.measure",
        "your faster run made the bottleneck stage S times faster",
        "faster = run_pipeline({'embeddings': speedup})",
    ),
    (
        "02_amdahl",
        "02.measure",
        "measured end-to-end speed-up",
        "measured_speedup = 1 / measured_speedup",
    ),
    (
        "02_amdahl",
        "02.measure",
        "Amdahl's prediction against your measurement",
        "predicted_speedup = amdahl_speedup(p_bottleneck, 10 * speedup)",
    ),
    (
        "05_threshold",
        "05.similarity",
        "one cosine similarity per pair, in order (within 1e-5)",
        "similarities = similarities[::-1]",
    ),
    ("05_threshold", "05.pr", "false hits at the threshold", "false_hits += 1"),
    ("05_threshold", "05.pr", "precision at the threshold", "precision = recall"),
    ("05_threshold", "05.pr", "recall at the threshold", "recall = true_hits / hits"),
    (
        "05_threshold",
        "05.calibrate",
        "the lowest threshold reaching the target precision",
        "lowest_threshold = 0.99",
    ),
    (
        "05_threshold",
        "05.calibrate",
        "the precision at your threshold reaches the target",
        "lowest_threshold = 0.0",
    ),
    (
        "07_batching",
        "07.rule",
        "next_batch_size follows the guide's rule for every size 5..100",
        "next_batch_size = lambda size, ok: min(size + 5, 100) if ok else size // 2",
    ),
    (
        "07_batching",
        "07.run",
        "every item was embedded once, in order",
        "records = records[:-1]",
    ),
    ("07_batching", "07.run", "the API was called once per record", "api.calls += 1"),
    (
        "07_batching",
        "07.run",
        "the batch-size trace follows the guide's rule",
        (
            "api = FakeEmbeddingsAPI(seed); records = run_virtual(run_adaptive_batches("
            "items, api.embed, AdaptiveBatcher(step=10), clock=LoopClock()))"
        ),
    ),
    ("07_batching", "07.run", "calls made", "n_calls = len([r for r in records if r.ok])"),
    (
        "07_batching",
        "07.run",
        "calls refused as too large (413)",
        "n_too_large = sum(not r.ok for r in records)",
    ),
    ("07_batching", "07.run", "largest batch that succeeded", "limit_low = limit_high"),
    ("07_batching", "07.run", "smallest batch refused as too large", "limit_high = limit_low"),
    (
        "07_batching",
        "07.run",
        "the hidden limit lies within your bracket",
        "limit_low = limit_high",
    ),
    (
        "07_batching",
        "07.run",
        "the hidden limit is below your smallest 413",
        "limit_high = limit_low",
    ),
    (
        "07_batching",
        "07.chunks",
        "chunks without overlap",
        "n_chunks = math.ceil(len(text) / chunk_size)",
    ),
    ("07_batching", "07.chunks", "chunks with overlap", "n_chunks_overlap = n_chunks"),
    (
        "07_batching",
        "07.chunks",
        "every chunk fits in chunk_size characters",
        "chunks_overlap = [*chunks_overlap, 'x' * (chunk_size + 1)]",
    ),
]
