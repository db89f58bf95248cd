"""Engine benchmark rows: MemoryStore top-1 search, exact and IVF (speed and recall@1),
against a bare numpy mat-vec (``benchmarks/engine.py``)."""

from __future__ import annotations

from harness import DIM, add, time_each  # first

# isort: split
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from perflab.metrics import format_duration

# ------------------------------------------------------------------ vector store


def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def near(rng: np.random.Generator, rows: np.ndarray, noise: float = 0.015) -> np.ndarray:
    """Slightly perturbed copies of ``rows``: cosine about 0.95 to the original."""
    out = rows + noise * rng.standard_normal(rows.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def fill_store(store: Any, namespace: str, matrix: np.ndarray) -> None:
    from perflab.cache.store import NewEntry

    step = 10_000
    for start in range(0, len(matrix), step):
        store.add_many(
            namespace,
            [
                NewEntry(f"query {i}", matrix[i], f"answer {i}", None, 0.0, float("inf"))
                for i in range(start, min(start + step, len(matrix)))
            ],
        )


def bench_store(sizes: Sequence[int], queries: int) -> None:
    rng = np.random.default_rng(1)
    for size in sizes:
        bench_store_size(rng, size, queries)


def bench_store_size(rng: np.random.Generator, size: int, queries: int) -> None:
    from perflab.cache import MemoryStore

    print(f"memory store top-1 ({size:,} x {DIM})")
    matrix = unit_rows(rng, size)
    store = MemoryStore()
    fill_store(store, "bench", matrix)
    qs = list(near(rng, matrix[rng.integers(0, size, queries)]))
    label = f"{size:.0e}".replace("+0", "")
    s = time_each(lambda q: store.search("bench", q, 1), qs).summary()
    add(
        "vector store top-1",
        f"perflab MemoryStore.search, {label}",
        "P50 per search",
        s.p50_s,
        f"P95 {format_duration(s.p95_s)}",
    )
    s = time_each(lambda q: int(np.argmax(matrix @ q)), qs).summary()
    add(
        "vector store top-1",
        f"numpy argmax(M @ q), {label}",
        "P50 per search",
        s.p50_s,
        f"P95 {format_duration(s.p95_s)} (floor)",
    )


# ------------------------------------------------------- approximate index (IVF)

IVF_NPROBES = (1, 8, 32)  # 8 is the default


def generated_texts(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct cache-like queries: a catalogue query plus two catalogue words."""
    from perflab.sim.workload import load_catalogue

    base = [q.text for q in load_catalogue().queries]
    vocab = sorted({w for t in base for w in t.split()})
    out: set[str] = set()
    while len(out) < n:
        a, b, c = rng.integers(len(base)), rng.integers(len(vocab)), rng.integers(len(vocab))
        out.add(f"{base[a]} {vocab[b]} {vocab[c]}")
    return sorted(out)


def ivf_datasets(
    rng: np.random.Generator, size: int, queries: int
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per dataset: stored matrix, "near" queries (rephrased entries), "fresh" queries.

    text: HashingEmbedder(384) vectors of generated queries; near = a stored text with
    one word dropped, fresh = texts that were never stored. uniform: random unit
    vectors, the worst case for IVF (no clusters); near = a perturbed stored vector,
    fresh = another random vector (its nearest neighbour is barely nearer than the rest).
    """
    from perflab.embedders import HashingEmbedder

    embedder = HashingEmbedder(dim=DIM)
    texts = generated_texts(rng, size + queries)
    fresh_texts = [
        texts.pop(int(i))
        for i in sorted(rng.choice(len(texts), queries, replace=False), reverse=True)
    ]

    def drop_word(text: str) -> str:
        words = text.split()
        del words[int(rng.integers(len(words)))]
        return " ".join(words)

    near_texts = [drop_word(texts[int(i)]) for i in rng.integers(0, size, queries)]
    uniform = unit_rows(rng, size)
    return {
        "text": (embedder.embed(texts), embedder.embed(near_texts), embedder.embed(fresh_texts)),
        "uniform": (
            uniform,
            near(rng, uniform[rng.integers(0, size, queries)]),
            unit_rows(rng, queries),
        ),
    }


def recall_at_1(store: Any, matrix: np.ndarray, qs: np.ndarray) -> float:
    """Share of queries whose top-1 has the exact top-1's similarity (ties count)."""
    best = (qs @ matrix.T).max(axis=1)
    got = np.array([store.search("bench", q, 1)[0].similarity for q in qs])
    return float(np.mean(got >= best - 1e-5))


def bench_ivf(sizes: Sequence[int], queries: int) -> None:
    from perflab.cache import MemoryStore

    rng = np.random.default_rng(3)
    for size in sizes:
        label = f"{size:.0e}".replace("+0", "")
        print(f"exact vs IVF top-1 ({size:,} x {DIM}; building the data)")
        for name, (matrix, near_qs, fresh_qs) in ivf_datasets(rng, size, queries).items():
            piece = f"ivf vs exact ({name})"
            exact = MemoryStore()
            fill_store(exact, "bench", matrix)
            s = time_each(lambda q, st=exact: st.search("bench", q, 1), list(near_qs)).summary()
            exact.close()
            add(
                piece,
                f"MemoryStore exact, {label} {name}",
                "P50 per search",
                s.p50_s,
                f"P95 {format_duration(s.p95_s)}, recall@1 1 (by definition)",
            )
            ivf = MemoryStore(index="ivf", ivf_min_entries=1_000)
            t0 = time.perf_counter()
            fill_store(ivf, "bench", matrix)
            built = time.perf_counter() - t0
            stats = ivf.index_stats()
            for nprobe in IVF_NPROBES if size >= 100_000 else (8,):
                ivf.set_nprobe(nprobe)  # same lists, like SET ivfflat.probes
                s = time_each(lambda q, st=ivf: st.search("bench", q, 1), list(near_qs)).summary()
                r_near = recall_at_1(ivf, matrix, near_qs)
                r_fresh = recall_at_1(ivf, matrix, fresh_qs)
                IVF_RECALL[(name, size, nprobe)] = (r_near, r_fresh)
                add(
                    piece,
                    f"MemoryStore ivf nprobe={nprobe}, {label} {name}",
                    "P50 per search",
                    s.p50_s,
                    f"P95 {format_duration(s.p95_s)}, recall@1 near {r_near:.3f} fresh {r_fresh:.3f}",
                )
            print(
                f"    ({stats.lists} lists, {stats.trainings} trainings, fill+train {built:.1f} s)"
            )
            ivf.close()


IVF_RECALL: dict[tuple[str, int, int], tuple[float, float]] = {}
