"""The glossary's terms and their anchors, for linking a word to ``docs/glossary.md``.

``docs/glossary.md`` defines each term under a heading preceded by
``<span id="anchor"></span>``; the anchor is also the heading's own slug on GitHub and in
MyST, so ``glossary.md#anchor`` opens the definition on GitHub, on the course website and
in JupyterLab. ``TERMS`` maps every term (and the other names it goes by: "P99",
"429", "recall@k") to its anchor; ``tests/test_glossary.py`` holds the two together.

    >>> link("percentile", "notebooks/beginner/01_measure_first.ipynb")
    '[percentile](../../docs/glossary.md#percentile)'
"""

from __future__ import annotations

import posixpath

__all__ = ["GLOSSARY_PATH", "REQUIRED", "TERMS", "anchor", "link", "url"]

#: Where the glossary lives, relative to the curriculum (repository) root.
GLOSSARY_PATH = "docs/glossary.md"

#: Term (lower case) -> anchor in docs/glossary.md. Several names can share an anchor.
TERMS: dict[str, str] = {
    "429": "rate-limit",
    "additive increase, multiplicative decrease": "aimd",
    "aimd": "aimd",
    "amdahl's law": "amdahls-law",
    "async": "coroutine",
    "await": "await",
    "backoff": "backoff",
    "batching": "batching",
    "bootstrap": "bootstrap",
    "bottleneck": "bottleneck",
    "chunk": "chunk",
    "circuit breaker": "circuit-breaker",
    "closed loop": "closed-loop",
    "cold start": "cold-start",
    "common random numbers": "common-random-numbers",
    "concurrency": "concurrency",
    "confidence interval": "confidence-interval",
    "connection pool": "connection-pool",
    "coordinated omission": "coordinated-omission",
    "coroutine": "coroutine",
    "cosine similarity": "cosine-similarity",
    "dead band": "dead-band",
    "embedding": "embedding",
    "erlang c": "erlang-c",
    "event loop": "event-loop",
    "false hit": "false-hit",
    "flapping": "flapping",
    "half-open": "half-open",
    "hard negative": "hard-negative",
    "hit rate": "hit-rate",
    "hnsw": "hnsw",
    "ivfflat": "ivfflat",
    "jitter": "jitter",
    "knee": "knee",
    "latency": "latency",
    "little's law": "littles-law",
    "llm token": "llm-token",
    "m/m/1": "mmc",
    "m/m/c": "mmc",
    "mean": "mean-and-median",
    "median": "mean-and-median",
    "nearest neighbour": "nearest-neighbour",
    "open loop": "open-loop",
    "p50": "percentile",
    "p95": "percentile",
    "p99": "percentile",
    "paired comparison": "paired-comparison",
    "percentile": "percentile",
    "poisson arrivals": "poisson-arrivals",
    "poisson thinning": "poisson-thinning",
    "power of two choices": "power-of-two-choices",
    "precision": "precision-and-recall",
    "prefetch": "prefetching",
    "prefetching": "prefetching",
    "queueing": "queueing",
    "rag": "rag",
    "rate limit": "rate-limit",
    "recall": "precision-and-recall",
    "recall@k": "recall-at-k",
    "replication": "replication",
    "requests per minute": "llm-token",
    "retry storm": "retry-storm",
    "retry-after": "retry-after",
    "round trip": "round-trip",
    "round-trip time": "round-trip",
    "rpm": "llm-token",
    "rtt": "round-trip",
    "seed": "seed",
    "semantic cache": "semantic-cache",
    "similarity threshold": "similarity-threshold",
    "slo": "slo",
    "span": "span",
    "stale": "stale-entry",
    "stale entry": "stale-entry",
    "tail latency": "tail-latency",
    "throughput": "throughput",
    "thundering herd": "retry-storm",
    "token bucket": "token-bucket",
    "tokens per minute": "llm-token",
    "tpm": "llm-token",
    "ttl": "ttl",
    "universal scalability law": "universal-scalability-law",
    "unpaired comparison": "paired-comparison",
    "usl": "universal-scalability-law",
    "virtual clock": "virtual-clock",
    "warm connection": "warm-up",
    "warm-up": "warm-up",
    "zipf": "zipf",
}

#: The terms issue 11 requires the glossary to define (each must be in ``TERMS``).
REQUIRED: tuple[str, ...] = (
    "embedding",
    "cosine similarity",
    "semantic cache",
    "rag",
    "nearest neighbour",
    "ttl",
    "percentile",
    "p50",
    "p95",
    "p99",
    "tail latency",
    "slo",
    "throughput",
    "amdahl's law",
    "little's law",
    "queueing",
    "erlang c",
    "zipf",
    "poisson arrivals",
    "open loop",
    "closed loop",
    "coordinated omission",
    "rate limit",
    "429",
    "retry-after",
    "token bucket",
    "backoff",
    "jitter",
    "circuit breaker",
    "half-open",
    "connection pool",
    "batching",
    "chunk",
    "precision",
    "recall",
    "false hit",
    "hnsw",
    "ivfflat",
    "recall@k",
    "cold start",
    "warm-up",
    "replication",
    "confidence interval",
    "common random numbers",
    "bootstrap",
    "poisson thinning",
    "coroutine",
    "await",
    "event loop",
    "virtual clock",
)


def anchor(term: str) -> str:
    """The anchor of ``term`` in the glossary (case and spacing don't matter).

    Raises:
        KeyError: the glossary has no such term; the message lists close ones.
    """
    key = " ".join(term.lower().split())
    try:
        return TERMS[key]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(key, TERMS, n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"{term!r} is not in the glossary (docs/glossary.md){hint}") from None


def url(term: str, from_path: str = "") -> str:
    """The relative link to ``term``'s definition from a file of the curriculum.

    Args:
        term: a glossary term.
        from_path: the linking file, relative to the repository root
            (``"notebooks/beginner/01_measure_first.ipynb"``); "" for the root itself.
    """
    folder = posixpath.dirname(from_path) or "."
    return f"{posixpath.relpath(GLOSSARY_PATH, folder)}#{anchor(term)}"


def link(term: str, from_path: str = "", text: str | None = None) -> str:
    """A Markdown link to ``term``'s definition, e.g. ``[P99](../../docs/glossary.md#percentile)``.

    Args:
        term: a glossary term.
        from_path: the linking file, relative to the repository root.
        text: the link's text (default: ``term`` as given).
    """
    return f"[{text if text is not None else term}]({url(term, from_path)})"
