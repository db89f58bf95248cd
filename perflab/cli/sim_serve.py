"""``perflab sim serve``: run the OpenAI/Tavily stand-in from the shell.

Registered under ``perflab sim`` by ``perflab/cli/sim.py`` (one call to
``register_serve``; moved here from ``perflab.backends.serve_cli``: it is CLI code). Only argparse is imported here; the server loads in the handler.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register_serve"]


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _rate(text: str) -> float:
    value = _scale(text) if text.strip() not in ("0", "0.0") else 0.0
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be within 0..1, got {value}")
    return value


def register_serve(verbs: Any) -> None:
    """Add ``serve`` to the ``perflab sim`` sub-verbs."""
    serve = verbs.add_parser(
        "serve",
        help="serve simulated OpenAI and Tavily APIs over HTTP (for real SDKs)",
        description="A local HTTP server that answers like OpenAI (/v1/chat/completions, "
        "/v1/embeddings) and Tavily (/search), with the simulator's latencies, error rates "
        "and rate limits (429 with Retry-After). Point the openai SDK at "
        "http://HOST:PORT/v1 with any key. Answers are placeholders, not a language model.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)"
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="random seed of the services (default 0)"
    )
    serve.add_argument(
        "--latency-scale",
        type=_scale,
        default=1.0,
        metavar="X",
        help="multiply every simulated latency (0.1: ten times faster; default 1)",
    )
    serve.add_argument(
        "--error-rate",
        type=_rate,
        default=None,
        metavar="P",
        help="probability that a call fails with HTTP 500 (default: each service's own)",
    )
    serve.add_argument(
        "--rpm",
        type=_scale,
        default=None,
        metavar="N",
        help="requests per minute each service allows before answering 429 (default: its own)",
    )
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import dataclasses

    from perflab.sim.services import EmbeddingParams, LLMParams, SearchParams
    from perflab.sim.standin import StandInConfig, StandInServer

    changes: dict[str, Any] = {}
    if args.error_rate is not None:
        changes["error_rate"] = args.error_rate
    if args.rpm is not None:
        changes["rpm"] = args.rpm
    config = StandInConfig(
        llm=dataclasses.replace(LLMParams(), **changes),
        embeddings=dataclasses.replace(EmbeddingParams(), **changes),
        search=dataclasses.replace(SearchParams(), **changes),
        seed=args.seed,
        latency_scale=args.latency_scale,
    )
    server = StandInServer(config, host=args.host, port=args.port)

    async def run() -> None:
        await server.start()
        print(f"perflab stand-in serving simulated APIs on {server.url} (Ctrl-C stops it)")
        print(f"  OpenAI: base_url={server.url}/v1   (any API key)")
        print(f"  Tavily: POST {server.url}/search")
        print("  latencies, errors and 429s come from perflab.sim.services (docs/sim.md)")
        sys.stdout.flush()
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    return 0
