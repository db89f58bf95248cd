"""Tests for perflab.lessons.embed_api: lesson 07's simulated embeddings API."""

from __future__ import annotations

import math

import pytest

from perflab.batcher import AdaptiveBatcher
from perflab.errors import ServiceError
from perflab.lessons.embed_api import API, embed_all, make_api
from perflab.sim import run_virtual


def fixed(size: int) -> AdaptiveBatcher:
    return AdaptiveBatcher(initial=size, step=1, max_size=size, min_size=size)


def test_a_batch_over_the_limit_is_rejected_with_413() -> None:
    embed = make_api(0)

    async def call() -> None:
        await embed(list(range(API["max_batch"] + 1)))

    with pytest.raises(ServiceError) as err:
        run_virtual(call())
    assert err.value.status == 413


def test_under_the_limit_every_item_is_embedded_at_the_model_rate() -> None:
    records, seconds = run_virtual(embed_all(fixed(40), n_items=2000))
    assert records is not None
    assert sum(r.size for r in records if r.ok) == 2000
    model = 40 / (
        (API["overhead_s"] + API["per_item_s"] * 40) * math.exp(API["noise_sigma"] ** 2 / 2)
    )
    assert 2000 / seconds == pytest.approx(model, rel=0.1)


def test_above_the_limit_the_run_gives_up() -> None:
    records, seconds = run_virtual(embed_all(fixed(100), n_items=500))
    assert records is None and seconds > 0


def test_the_adaptive_batcher_follows_a_moving_limit() -> None:
    records, _ = run_virtual(embed_all(AdaptiveBatcher(), n_items=2000, limit=lambda t: 30))
    assert records is not None
    assert max(r.size for r in records if r.ok) <= 30
    again, _ = run_virtual(embed_all(AdaptiveBatcher(), n_items=2000, limit=lambda t: 30))
    assert [r.size for r in again] == [r.size for r in records]
