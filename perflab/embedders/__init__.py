"""Embedders: one protocol, four implementations, picked by name.

=====================  =======================================  ==========================
``get_embedder(...)``  class                                    needs
=====================  =======================================  ==========================
``"wordllama"``        ``WordLlamaEmbedder`` (default, semantic)  nothing: weights in wheel
``"hashing"``          ``HashingEmbedder`` (lexical foil)         nothing: numpy only
``"openai"``           ``OpenAIEmbedder``                        ``OPENAI_API_KEY``
``"sentence-...``      ``SentenceTransformerEmbedder``           ``sentence-transformers``
=====================  =======================================  ==========================
"""

from __future__ import annotations

from typing import Any

from perflab.embedders.base import AsyncEmbedder, Embedder, FloatArray, l2_normalise
from perflab.embedders.hashing import HashingEmbedder
from perflab.embedders.openai import MODEL_DIMS, OpenAIEmbedder
from perflab.embedders.sentence_transformers import SentenceTransformerEmbedder
from perflab.embedders.wordllama import WordLlamaEmbedder
from perflab.errors import ConfigError

__all__ = [
    "EMBEDDER_KINDS",
    "AsyncEmbedder",
    "Embedder",
    "FloatArray",
    "HashingEmbedder",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "WordLlamaEmbedder",
    "get_embedder",
    "l2_normalise",
]

EMBEDDER_KINDS = ("wordllama", "hashing", "openai", "sentence-transformers")


def _dim_suffix(detail: str, pattern: str) -> int | None:
    """Read the dimension out of a full name such as ``hashing/v1-384``."""
    import re

    match = re.fullmatch(pattern, detail)
    return int(match.group(1)) if match else None


def get_embedder(name: str, **kwargs: Any) -> Embedder:
    """Build an embedder from a kind (``"wordllama"``) or a full name (``"hashing/v1-256"``).

    Args:
        name: one of ``EMBEDDER_KINDS``, optionally followed by ``/`` and a detail:
            ``"hashing/v1-<dim>"``, ``"wordllama/l2_supercat_<dim>"``,
            ``"openai/<model>"``, ``"sentence-transformers/<model>"``. The full names
            are the ``name`` attributes the cache records, so an entry's namespace
            rebuilds its embedder.
        **kwargs: passed to the class (``dim=``, ``base_url=``, ``api_key=``...).

    Raises:
        ConfigError: for an unknown kind or a malformed detail.
        ImportError: when the kind's optional package is missing.
    """
    kind, _, detail = name.strip().partition("/")
    kind = kind.lower().replace("_", "-")
    if kind == "hashing":
        if detail:
            dim = _dim_suffix(detail, r"v1-(\d+)")
            if dim is None:
                raise ConfigError(f"embedder {name!r}: expected 'hashing/v1-<dim>'")
            kwargs.setdefault("dim", dim)
        return HashingEmbedder(**kwargs)
    if kind == "wordllama":
        if detail:
            dim = _dim_suffix(detail, r"l2_supercat_(\d+)")
            if dim is None:
                raise ConfigError(f"embedder {name!r}: expected 'wordllama/l2_supercat_<dim>'")
            kwargs.setdefault("dim", dim)
        return WordLlamaEmbedder(**kwargs)
    if kind == "openai":
        if detail:
            # The recorded name is "openai/<model>-<dim>"; a bare model name works too.
            model, dash, size = detail.rpartition("-")
            if dash and size.isdigit() and detail not in MODEL_DIMS:
                kwargs.setdefault("model", model)
                kwargs.setdefault("dim", int(size))
            else:
                kwargs.setdefault("model", detail)
        return OpenAIEmbedder(**kwargs)
    if kind == "sentence-transformers":
        if detail:
            kwargs.setdefault("model", detail)
        return SentenceTransformerEmbedder(**kwargs)
    raise ConfigError(f"unknown embedder {name!r}; allowed: {', '.join(EMBEDDER_KINDS)}")
