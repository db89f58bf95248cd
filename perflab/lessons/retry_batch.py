"""Lesson 06's retry experiment: N workers write a batch of articles through one simulated LLM.

Lesson 06 compares what a client does after a 429 (ignore ``Retry-After``, honour it, add
jitter, or put a token bucket in front). The policies are the lesson's own ``Retry``
subclasses; this module holds the harness that runs them, so the lesson shows the call.

Example::

    m = run_virtual(llm_batch(LLMParams(), workers=16, policy=Retry, bucket_share=None))
    print(m["per_hour"], m["r429"], m["failed"])
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import numpy as np

from perflab.clock import LoopClock
from perflab.limits import ConcurrencyLimiter, TokenBucket
from perflab.retry import Retry
from perflab.sim import LLMParams
from perflab.sim.faults import service_rng
from perflab.sim.services import SimLLM

__all__ = ["llm_batch"]


async def llm_batch(
    llm_params: LLMParams,
    workers: int,
    policy: type[Retry],
    bucket_share: float | None,
    *,
    batch: int = 1000,
    est_tokens: int = 3119,
    seed: int = 6,
) -> dict[str, Any]:
    """``workers`` workers write ``batch`` articles, one LLM call each, through ``policy``.

    Every call goes through ``policy(attempts=3, wait_initial=0.5, wait_max=30)`` on the loop's
    clock; an article whose three attempts all fail counts as one failed request, and the
    worker starts it again, so every article is written in the end. With ``bucket_share``,
    each call first takes ``est_tokens`` from a ``TokenBucket`` refilled at that share of the
    model's TPM. Run it with ``perflab.sim.run_virtual``.

    Returns: ``per_hour`` (articles per hour), ``p95_s`` and ``mean_s`` (time per article,
    retries included), ``r429`` (refused calls), ``calls``, ``failed`` (requests whose three
    attempts failed), ``makespan_s`` and ``usd`` (the LLM's bill).
    """
    loop = asyncio.get_running_loop()
    llm = SimLLM(llm_params, service_rng(seed, "llm"))
    limiter = ConcurrencyLimiter(workers)
    bucket = None
    if bucket_share:
        bucket = TokenBucket(llm_params.tpm / 60 * bucket_share, 4 * est_tokens, clock=LoopClock())
    retry = policy(
        attempts=3, wait_initial=0.5, wait_max=30.0, clock=LoopClock(), rng=random.Random(seed)
    )
    todo = iter(range(batch))
    times: list[float] = []
    failed = 0

    async def call() -> Any:
        if bucket is not None:
            await bucket.acquire(est_tokens)  # wait for the budget *before* calling
        async with limiter:
            return await llm.generate("keyword")

    async def worker() -> None:
        nonlocal failed
        for _ in todo:
            start = loop.time()
            while True:
                try:
                    await retry.acall(call)
                    break
                except Exception:  # noqa: BLE001 -- any error after the last attempt is a failed request
                    failed += 1  # three attempts failed: a visible error
            times.append(loop.time() - start)

    await asyncio.gather(*(worker() for _ in range(workers)))
    stats = llm.stats()
    return {
        "per_hour": batch / loop.time() * 3600,
        "p95_s": float(np.percentile(times, 95)),
        "mean_s": float(np.mean(times)),
        "r429": stats.rate_limited,
        "calls": stats.calls,
        "failed": failed,
        "makespan_s": loop.time(),
        "usd": stats.cost_usd,
    }
