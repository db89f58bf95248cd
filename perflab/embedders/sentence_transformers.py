"""sentence-transformers models, when that package is installed.

It is not a perflab dependency (it brings PyTorch, about 1 GB). Install it with
``pip install sentence-transformers`` to compare a transformer encoder with the
static WordLlama model; the first use downloads the model unless it is cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from perflab.embedders.base import FloatArray, l2_normalise

__all__ = ["SentenceTransformerEmbedder"]


class SentenceTransformerEmbedder:
    """Embeddings from a ``sentence_transformers.SentenceTransformer`` model.

    Args:
        model: a model name or local path, e.g. ``"all-MiniLM-L6-v2"``.
        device: ``"cpu"``, ``"cuda"``...; ``None`` lets the library choose.
        batch_size: texts per forward pass.

    Raises:
        ImportError: if sentence-transformers is not installed.
    """

    def __init__(
        self, model: str = "all-MiniLM-L6-v2", *, device: str | None = None, batch_size: int = 32
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                "sentence-transformers is not installed: pip install sentence-transformers "
                "(or use PERFLAB_EMBEDDER=wordllama, which runs offline)"
            ) from exc
        self.model = model
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(model, device=device)
        dim = self._model.get_sentence_embedding_dimension()
        if dim is None:
            raise ValueError(f"model {model!r} does not report its embedding size")
        self._dim = int(dim)

    @property
    def name(self) -> str:
        """``"sentence-transformers/<model>"``."""
        return f"sentence-transformers/{self.model}"

    @property
    def dim(self) -> int:
        """Vector length."""
        return self._dim

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` into L2-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        raw = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True)
        return l2_normalise(raw)

    def __repr__(self) -> str:
        return f"<SentenceTransformerEmbedder {self.name} dim={self._dim}>"
