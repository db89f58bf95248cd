"""The default semantic embedder: WordLlama, offline, from the weights in its wheel.

WordLlama (PyPI ``wordllama``, pinned to 0.4.0.post1) is a static embedding model:
a token-embedding table distilled from an LLM, averaged over a text's tokens. The
256-dimension ``l2_supercat`` table and its tokenizer ship *inside* the wheel, and it
needs only numpy and ``tokenizers``: no GPU, no network, a few milliseconds for a
batch of queries.

Why not ``wordllama.WordLlama.load()``? In 0.4.0.post1 it looks for the tokenizer in
``wordllama/tokenizer/`` while the wheel ships it in ``wordllama/tokenizers/``, so it
falls back to downloading it from Hugging Face. We open the packaged files directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from perflab.embedders.base import FloatArray, l2_normalise

__all__ = ["WordLlamaEmbedder", "wordllama_files"]

_CONFIG = "l2_supercat"
_PACKAGED_DIM = 256
_DIMS = (64, 128, 256)  # Matryoshka-trained: a prefix of the vector is a smaller model


def _import_wordllama() -> Any:
    """Import wordllama without letting it reconfigure the root logger.

    ``wordllama/__init__`` calls ``logging.basicConfig(level=INFO)`` at import time,
    which would make every library's INFO messages appear in a learner's notebook.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
    except ImportError as exc:
        raise ImportError(
            "wordllama is not installed: pip install 'wordllama==0.4.0.post1' "
            "(or use PERFLAB_EMBEDDER=hashing)"
        ) from exc
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return wordllama


def wordllama_files(config: str = _CONFIG) -> tuple[Path, Path]:
    """Return the (weights, tokenizer) paths packaged inside the installed wordllama wheel.

    Raises:
        FileNotFoundError: if the installed wheel does not contain them.
    """
    package = Path(_import_wordllama().__file__).parent
    weights = package / "weights" / f"{config}_{_PACKAGED_DIM}.safetensors"
    tokenizer = package / "tokenizers" / f"{config}_tokenizer_config.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path.name} is not in the installed wordllama package ({package}); "
                "reinstall it with pip install --force-reinstall 'wordllama==0.4.0.post1'"
            )
    return weights, tokenizer


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat`` embeddings loaded from the packaged files, no network.

    The model loads on the first ``embed`` call (about 0.2-0.5 s), so creating the
    embedder (for its ``name``, say) is free.

    Args:
        dim: 64, 128 or 256. Smaller keeps a prefix of the 256-dimension vector
            (the model was trained so prefixes still work): less memory, less quality.
        batch_size: texts tokenised per step.
    """

    def __init__(self, dim: int = _PACKAGED_DIM, *, batch_size: int = 64) -> None:
        if dim not in _DIMS:
            raise ValueError(f"dim ({dim}) must be one of {_DIMS} for the packaged wordllama model")
        if batch_size < 1:
            raise ValueError(f"batch_size ({batch_size}) must be >= 1")
        self._dim = dim
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """``"wordllama/l2_supercat_<dim>"``."""
        return f"wordllama/{_CONFIG}_{self._dim}"

    @property
    def dim(self) -> int:
        """Vector length."""
        return self._dim

    @property
    def is_loaded(self) -> bool:
        """Whether the weights are in memory yet."""
        return self._model is not None

    def load(self) -> None:
        """Load the packaged weights and tokenizer now rather than on first use."""
        with self._lock:
            if self._model is not None:
                return
            weights_path, tokenizer_path = wordllama_files()
            _import_wordllama()
            from safetensors import safe_open
            from tokenizers import Tokenizer
            from wordllama.inference import WordLlamaInference

            with safe_open(str(weights_path), framework="np", device="cpu") as f:
                table = f.get_tensor("embedding.weight")[:, : self._dim]
            tokenizer = Tokenizer.from_file(str(tokenizer_path))
            self._model = WordLlamaInference(table, tokenizer, binary=False)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts`` into L2-normalised float32 rows (an empty text gives a zero row)."""
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if self._model is None:
            self.load()
        raw = self._model.embed(list(texts), norm=False, batch_size=self._batch_size)
        return l2_normalise(raw)

    def __repr__(self) -> str:
        state = "loaded" if self.is_loaded else "not loaded"
        return f"<WordLlamaEmbedder {self.name} [{state}]>"
