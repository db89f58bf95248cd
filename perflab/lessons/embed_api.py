"""Lesson 07's simulated embeddings API, and the run that embeds a corpus through a batcher.

Each call costs a fixed ``overhead_s`` plus ``per_item_s`` per item, times log-normal noise
(``noise_sigma``). A batch above the hidden limit (``max_batch``, or ``limit(t)`` when the limit
moves over time) is rejected with a 413 after the overhead; a share ``p_transient`` of calls
fails with a 503 whatever their size. The numbers are illustrative, shaped like a hosted
embeddings endpoint; they are not measurements of one.

Run everything on a virtual clock (``perflab.sim.run_virtual``)::

    records, seconds = run_virtual(embed_all(AdaptiveBatcher()))
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import numpy as np

from perflab.batcher import AdaptiveBatcher, BatchRecord, run_adaptive_batches
from perflab.clock import LoopClock
from perflab.errors import ServiceError

__all__ = ["API", "N_ITEMS", "SEED", "embed_all", "make_api"]

#: The simulated API's parameters (seconds, items, probabilities).
API: dict[str, Any] = {
    "overhead_s": 0.3,
    "per_item_s": 0.01,
    "noise_sigma": 0.2,
    "max_batch": 64,
    "p_transient": 0.01,
}
#: Items in the corpus lesson 07 embeds, and its seed.
N_ITEMS = 5_000
SEED = 7


def make_api(
    seed: int, api: Mapping[str, Any] = API, limit: Callable[[float], float] | None = None
) -> Callable[[Sequence[Any]], Awaitable[int]]:
    """A simulated embeddings endpoint; ``limit(t)`` can change the hidden max batch over time."""
    rng = np.random.default_rng(seed)
    limit = limit or (lambda t: api["max_batch"])

    async def embed(batch: Sequence[Any]) -> int:
        n = len(batch)
        if n > limit(asyncio.get_running_loop().time()):
            await asyncio.sleep(api["overhead_s"])  # rejected after the round trip
            raise ServiceError(f"413: a batch of {n} items is too large", status=413)
        await asyncio.sleep(
            (api["overhead_s"] + api["per_item_s"] * n) * rng.lognormal(0.0, api["noise_sigma"])
        )
        if rng.random() < api["p_transient"]:
            raise ServiceError("503: service unavailable, try again", status=503)
        return n

    return embed


async def embed_all(
    batcher: AdaptiveBatcher,
    seed: int = SEED,
    limit: Callable[[float], float] | None = None,
    n_items: int = N_ITEMS,
    api: Mapping[str, Any] = API,
) -> tuple[list[BatchRecord[int]] | None, float]:
    """Embed ``n_items`` with ``batcher``; return (records, virtual seconds) or (None, seconds).

    A failed batch's items are retried at the batcher's new size; when the same position fails
    8 times in a row the run gives up and returns ``None`` for the records.
    """
    clock = LoopClock()  # the virtual-time loop's clock: simulated seconds
    start = clock.now()
    try:
        records = await run_adaptive_batches(
            list(range(n_items)), make_api(seed, api, limit=limit), batcher, clock, max_attempts=8
        )
    except ServiceError:
        return None, clock.now() - start  # the same position failed 8 times: give up
    return records, clock.now() - start
