"""Engine benchmark rows: perflab's SemanticCache against GPTCache on the same vectors,
hits and misses (``benchmarks/engine.py``)."""

from __future__ import annotations

from harness import DIM, add, have, time_each  # first

# isort: split
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from engine_store import fill_store, near, unit_rows

from perflab.metrics import format_duration

# ---------------------------------------------------------------- semantic cache


class FixedEmbedder:
    """Stands in for a model: the benchmark always passes vectors in."""

    name = "bench/random-384"
    dim = DIM

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise RuntimeError("the benchmark supplies every vector")


def numpy_vector_base(dim: int) -> Any:
    """An exact numpy VectorBase for GPTCache (its faiss store is not installed)."""
    from gptcache.manager.vector_data.base import VectorBase, VectorData

    class NumpyVectorBase(VectorBase):  # type: ignore[misc]
        def __init__(self) -> None:
            self.ids = np.empty(0, dtype=np.int64)
            self.matrix = np.empty((0, dim), dtype=np.float32)

        def mul_add(self, datas: list[VectorData]) -> None:
            self.ids = np.concatenate([self.ids, [d.id for d in datas]])
            self.matrix = np.vstack([self.matrix, np.array([d.data for d in datas], np.float32)])

        def search(self, data: np.ndarray, top_k: int = 1) -> list[tuple[float, int]] | None:
            if not len(self.ids):
                return None
            sims = self.matrix @ data.astype(np.float32, copy=False)
            k = min(max(1, top_k), len(sims))
            best = [int(np.argmax(sims))] if k == 1 else np.argsort(-sims)[:k].tolist()
            # GPTCache expects squared L2 distances; for unit vectors that is 2 - 2 cos.
            return [(2.0 - 2.0 * float(sims[i]), int(self.ids[i])) for i in best]

        def rebuild(self, ids: Any = None) -> bool:
            return True

        def delete(self, ids: Any) -> bool:
            keep = ~np.isin(self.ids, ids)
            self.ids, self.matrix = self.ids[keep], self.matrix[keep]
            return True

    return NumpyVectorBase()


def bench_cache(size: int, queries: int, tmp: Path) -> None:
    from perflab.cache import MemoryStore, SemanticCache, SQLiteStore

    print(f"semantic cache lookup ({size:,} entries, embedding supplied)")
    rng = np.random.default_rng(2)
    matrix = unit_rows(rng, size)
    hits = list(near(rng, matrix[rng.integers(0, size, queries)]))  # cosine ~0.95
    misses = list(unit_rows(rng, queries))  # best cosine ~0.25
    label = f"{size:.0e}".replace("+0", "")

    def ours(store: Any, name: str) -> None:
        cache = SemanticCache(FixedEmbedder(), store, threshold=0.8)
        fill_store(store, cache.namespace, matrix)
        for kind, vecs in (("hit", hits), ("miss", misses)):
            s = time_each(lambda v: cache.lookup("q", vector=v), vecs).summary()
            add(
                "semantic cache lookup",
                f"perflab SemanticCache+{name}, {label}",
                f"{kind} P50",
                s.p50_s,
                f"P95 {format_duration(s.p95_s)}",
            )
        assert cache.stats().hits == len(hits), "every near-duplicate should hit"
        store.close()

    ours(MemoryStore(), "MemoryStore")
    ours(SQLiteStore(tmp / "perflab.db"), "SQLiteStore")

    if not (have("gptcache") and have("sqlalchemy")):
        add("semantic cache lookup", "GPTCache", "hit P50", None)
        return
    from gptcache import Cache, Config
    from gptcache.adapter.api import get
    from gptcache.manager import CacheBase, get_data_manager
    from gptcache.processor.pre import get_prompt
    from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation

    vectors: dict[str, np.ndarray] = {}
    questions = [f"query {i}" for i in range(size)]
    vectors.update(zip(questions, matrix))
    for kind, vecs in (("hit", hits), ("miss", misses)):
        vectors.update((f"{kind} {i}", v) for i, v in enumerate(vecs))
    # A file, as GPTCache is deployed, and in memory, to show its cost without disk syncs.
    for name, url in (
        ("sqlite", f"sqlite:///{tmp / 'gptcache.db'}"),
        ("in-memory sqlite", "sqlite:///:memory:"),
    ):
        cache = Cache()
        manager = get_data_manager(
            CacheBase("sqlite", sql_url=url), numpy_vector_base(DIM), max_size=10 * size
        )
        # GPTCache's threshold is on its distance score: cosine >= 0.8 is threshold 0.9.
        cache.init(
            pre_embedding_func=get_prompt,
            embedding_func=lambda text, **_: vectors[text],
            data_manager=manager,
            similarity_evaluation=SearchDistanceEvaluation(),
            config=Config(similarity_threshold=0.9),
        )
        manager.import_data(
            questions,
            [f"answer {i}" for i in range(size)],
            [matrix[i] for i in range(size)],
            [None] * size,
        )
        for kind, count in (("hit", len(hits)), ("miss", len(misses))):
            results: list[object] = []
            prompts = [f"{kind} {i}" for i in range(count)]
            s = time_each(
                lambda p, c=cache, out=results: out.append(get(p, cache_obj=c)), prompts
            ).summary()
            add(
                "semantic cache lookup",
                f"GPTCache get ({name} + numpy), {label}",
                f"{kind} P50",
                s.p50_s,
                f"P95 {format_duration(s.p95_s)}",
            )
            served = sum(r is not None for r in results)
            assert served == (count if kind == "hit" else 0), f"GPTCache served {served} {kind}s"
        manager.close()
