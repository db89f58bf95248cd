"""Embedders: the protocol, determinism, offline loading, and the OpenAI wire format."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perflab.embedders import (
    Embedder,
    HashingEmbedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    WordLlamaEmbedder,
    get_embedder,
    l2_normalise,
)
from perflab.errors import ConfigError, RateLimited, ServiceError

# (anchor, paraphrase with other words, lexical decoy with another intent). Measured:
# hashing scores every decoy above its paraphrase; WordLlama the other way round.
TRIPLETS = [
    ("apple pie recipe", "how to bake an apple tart", "apple stock price"),
    (
        "java coffee brewing",
        "how to make coffee from indonesian beans",
        "java programming tutorial",
    ),
    (
        "how to fix a flat bicycle tire",
        "repairing a punctured bike tyre",
        "how to fix a flat file in python",
    ),
    ("bank account interest rates", "savings account yield", "river bank erosion rates"),
]


@pytest.fixture(scope="module")
def wordllama() -> WordLlamaEmbedder:
    """One loaded WordLlama model for the module (loading takes a fraction of a second)."""
    embedder = WordLlamaEmbedder()
    embedder.load()
    return embedder


def _cos(embedder: Embedder, a: str, b: str) -> float:
    va, vb = embedder.embed([a, b])
    return float(va @ vb)


def test_hashing_is_deterministic_across_processes() -> None:
    """The hashing embedder gives bit-identical vectors in a fresh interpreter (no salted hash())."""
    code = (
        "from perflab.embedders import HashingEmbedder;"
        "print(HashingEmbedder().embed(['python snake care']).tobytes().hex())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
    ).stdout.strip()
    assert other == HashingEmbedder().embed(["python snake care"]).tobytes().hex()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=5), st.integers(min_value=2, max_value=64))
def test_hashing_rows_are_unit_or_zero(texts: list[str], dim: int) -> None:
    """Every row is float32 of length 1, or all zero for a text with no word characters."""
    out = HashingEmbedder(dim=dim).embed(texts)
    assert out.dtype == np.float32 and out.shape == (len(texts), dim)
    norms = np.linalg.norm(out, axis=1)
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))


def test_hashing_name_namespaces_its_options() -> None:
    """The name carries the dimension, and options that change vectors change the name."""
    assert HashingEmbedder().name == "hashing/v1-384"
    assert HashingEmbedder(dim=64).name == "hashing/v1-64"
    assert HashingEmbedder(char_ngrams=(2, 4)).name != HashingEmbedder().name


@pytest.mark.parametrize(("anchor", "paraphrase", "decoy"), TRIPLETS)
def test_hashing_prefers_lexical_decoys(anchor: str, paraphrase: str, decoy: str) -> None:
    """The lexical embedder scores a different-intent pair sharing words above a paraphrase."""
    embedder = HashingEmbedder()
    assert _cos(embedder, anchor, decoy) > _cos(embedder, anchor, paraphrase)


@pytest.mark.parametrize(("anchor", "paraphrase", "decoy"), TRIPLETS)
def test_wordllama_prefers_paraphrases(
    wordllama: WordLlamaEmbedder, anchor: str, paraphrase: str, decoy: str
) -> None:
    """WordLlama ranks the same pairs the right way round: the paraphrase above the decoy."""
    assert _cos(wordllama, anchor, paraphrase) > _cos(wordllama, anchor, decoy)


def test_wordllama_is_fooled_by_shared_rare_words(wordllama: WordLlamaEmbedder) -> None:
    """WordLlama averages token vectors, so a decoy sharing 'python' and 'care' still wins."""
    para = _cos(wordllama, "python snake care", "how to keep a ball python healthy")
    decoy = _cos(wordllama, "python snake care", "python list care")
    assert decoy > para


def test_wordllama_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged weights and tokenizer load with every socket connection refused."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network disabled by the test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    embedder = WordLlamaEmbedder(dim=128)
    out = embedder.embed(["hello world", ""])
    assert out.shape == (2, 128) and out.dtype == np.float32
    assert abs(float(np.linalg.norm(out[0])) - 1) < 1e-5 and not out[1].any()
    assert embedder.name == "wordllama/l2_supercat_128" and "loaded" in repr(embedder)


def test_wordllama_import_leaves_root_logger_alone() -> None:
    """Importing wordllama through perflab adds no handler to the root logger."""
    code = (
        "import logging;from perflab.embedders import WordLlamaEmbedder as W;W().load();"
        "print(len(logging.getLogger().handlers))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"


def test_l2_normalise_keeps_zero_rows() -> None:
    """Normalising scales rows to length 1 and leaves an all-zero row at zero."""
    out = l2_normalise([[3.0, 4.0], [0.0, 0.0]])
    assert out.tolist() == [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]


class _Embeddings(BaseHTTPRequestHandler):
    """A tiny OpenAI stand-in: POST /v1/embeddings, items returned in reverse order."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        vectors = HashingEmbedder(dim=body.get("dimensions", 8)).embed(body["input"]) * 3.0
        data = [
            {"object": "embedding", "index": i, "embedding": v.tolist()}
            for i, v in enumerate(vectors)
        ][::-1]
        payload = json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def openai_server() -> Iterator[str]:
    """Serve the stand-in on 127.0.0.1 and yield its base URL."""
    _Embeddings.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Embeddings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_embeds_in_batches_over_http(openai_server: str) -> None:
    """Texts go out batch_size per request, come back in input order, normalised."""
    embedder = OpenAIEmbedder(
        "my-model", dim=8, base_url=openai_server, api_key="sk-test", batch_size=2
    )
    texts = ["alpha", "beta", "gamma", "delta", "epsilon"]
    out = embedder.embed(texts)
    assert [len(r["input"]) for r in _Embeddings.requests] == [2, 2, 1]
    assert _Embeddings.requests[0]["path"] == "/v1/embeddings"
    assert _Embeddings.requests[0]["auth"] == "Bearer sk-test"
    np.testing.assert_allclose(out, HashingEmbedder(dim=8).embed(texts), atol=1e-6)
    assert "sk-test" not in repr(embedder)
    embedder.close()


def test_openai_async_matches_sync(openai_server: str) -> None:
    """aembed returns the same vectors as embed, through AsyncOpenAI."""
    embedder = OpenAIEmbedder(
        "my-model", dim=8, base_url=openai_server, api_key="sk-test", batch_size=3
    )
    texts = ["one", "two", "three", "four"]
    out = asyncio.run(embedder.aembed(texts))
    np.testing.assert_allclose(out, embedder.embed(texts), atol=1e-6)


def test_openai_sends_dimensions_for_v3_models(openai_server: str) -> None:
    """A smaller dim for text-embedding-3-* is sent as ``dimensions`` and named in the namespace."""
    embedder = OpenAIEmbedder("text-embedding-3-small", dim=16, base_url=openai_server, api_key="k")
    assert embedder.embed(["hi"]).shape == (1, 16)
    assert _Embeddings.requests[0]["dimensions"] == 16
    assert embedder.name == "openai/text-embedding-3-small-16"


class _Failing(BaseHTTPRequestHandler):
    """An OpenAI stand-in that answers every request with ``status`` (and Retry-After on 429)."""

    status: ClassVar[int] = 500
    hits: ClassVar[int] = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).hits += 1
        payload = json.dumps(
            {"error": {"message": "simulated", "type": "server_error", "param": None, "code": None}}
        ).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.status == 429:
            self.send_header("Retry-After", "7")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def failing_server() -> Iterator[type[_Failing]]:
    """Serve the failing stand-in on 127.0.0.1; set ``.status`` and read ``.url``."""
    handler = type("Handler", (_Failing,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/v1"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("use_async", [False, True])
def test_openai_429_becomes_rate_limited_with_retry_after(
    failing_server: Any, use_async: bool
) -> None:
    """HTTP 429 with Retry-After: 7 leaves the embedder as perflab.RateLimited(retry_after=7.0), the SDK error as its cause."""
    import openai

    failing_server.status = 429
    embedder = OpenAIEmbedder(
        "my-model", dim=8, base_url=failing_server.url, api_key="sk-test", max_retries=0
    )
    with pytest.raises(RateLimited) as info:
        asyncio.run(embedder.aembed(["x"])) if use_async else embedder.embed(["x"])
    assert info.value.retry_after == 7.0 and "429" in str(info.value)
    assert isinstance(info.value.__cause__, openai.RateLimitError)
    assert failing_server.hits == 1


@pytest.mark.parametrize("use_async", [False, True])
def test_openai_500_becomes_service_error(failing_server: Any, use_async: bool) -> None:
    """HTTP 500 leaves the embedder as perflab.ServiceError(status=500), not the SDK's InternalServerError."""
    import openai

    failing_server.status = 500
    embedder = OpenAIEmbedder(
        "my-model", dim=8, base_url=failing_server.url, api_key="sk-test", max_retries=0
    )
    with pytest.raises(ServiceError) as info:
        asyncio.run(embedder.aembed(["x"])) if use_async else embedder.embed(["x"])
    assert info.value.status == 500
    assert isinstance(info.value.__cause__, openai.InternalServerError)


def test_openai_refused_connection_and_timeout_become_service_errors(failing_server: Any) -> None:
    """No server on the port, or no answer in time, is a ServiceError saying which."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    gone = OpenAIEmbedder(
        "m", dim=8, base_url=f"http://127.0.0.1:{port}/v1", api_key="k", max_retries=0
    )
    with pytest.raises(ServiceError, match="could not be reached"):
        gone.embed(["x"])
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        slow = OpenAIEmbedder("m", dim=8, base_url=url, api_key="k", max_retries=0, timeout=0.2)
        with pytest.raises(ServiceError, match="timed out"):
            slow.embed(["x"])


def test_openai_refused_key_is_a_config_error(failing_server: Any) -> None:
    """HTTP 401 is a ConfigError naming OPENAI_API_KEY (retrying a wrong key is pointless)."""
    failing_server.status = 401
    embedder = OpenAIEmbedder(
        "my-model", dim=8, base_url=failing_server.url, api_key="sk-test", max_retries=0
    )
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        embedder.embed(["x"])


def test_openai_unknown_model_needs_dim() -> None:
    """An unknown model without dim= is refused with the fix in the message."""
    with pytest.raises(ValueError, match="pass dim="):
        OpenAIEmbedder("mystery-model", api_key="k")


def test_sentence_transformers_missing_is_a_clear_error() -> None:
    """Without the package, building the embedder says what to install."""
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install sentence-transformers"):
            SentenceTransformerEmbedder()
    else:
        pytest.skip("sentence-transformers is installed; the missing-package path cannot run")


def test_sentence_transformers_embeds() -> None:
    """With the package (and a cached model), rows are unit vectors under a namespaced name."""
    pytest.importorskip("sentence_transformers", reason="sentence-transformers is not installed")
    embedder = SentenceTransformerEmbedder()
    out = embedder.embed(["hello", "world"])
    assert out.shape == (2, embedder.dim) and embedder.name.startswith("sentence-transformers/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hashing", "hashing/v1-384"),
        ("hashing/v1-128", "hashing/v1-128"),
        ("wordllama", "wordllama/l2_supercat_256"),
        ("wordllama/l2_supercat_64", "wordllama/l2_supercat_64"),
        ("openai/text-embedding-3-small-512", "openai/text-embedding-3-small-512"),
        ("openai/text-embedding-ada-002", "openai/text-embedding-ada-002-1536"),
    ],
)
def test_get_embedder_round_trips_names(name: str, expected: str) -> None:
    """A kind or a recorded full name builds the embedder with that name."""
    kwargs = {"api_key": "k"} if name.startswith("openai") else {}
    assert get_embedder(name, **kwargs).name == expected


def test_get_embedder_refuses_unknown_kinds() -> None:
    """An unknown kind raises ConfigError listing the allowed ones."""
    with pytest.raises(ConfigError, match="allowed: wordllama, hashing"):
        get_embedder("word2vec")
