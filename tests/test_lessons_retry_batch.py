"""Tests for perflab.lessons.retry_batch: lesson 06's retry experiment against the simulated LLM."""

from __future__ import annotations

from perflab.lessons.retry_batch import llm_batch
from perflab.retry import Retry
from perflab.sim import LLMParams, run_virtual

LLM = LLMParams()


def test_under_the_limit_nothing_is_refused_and_every_article_is_written() -> None:
    m = run_virtual(llm_batch(LLM, 2, Retry, None, batch=60))
    assert m["r429"] == 0 and m["failed"] == 0
    assert m["calls"] >= 60  # one call per article, plus any retried transient error
    assert m["per_hour"] == 60 / m["makespan_s"] * 3600
    assert 0 < m["mean_s"] <= m["p95_s"] and m["usd"] > 0


def test_past_the_limit_a_token_bucket_prevents_the_429s() -> None:
    plain = run_virtual(llm_batch(LLM, 16, Retry, None, batch=300))
    bucket = run_virtual(llm_batch(LLM, 16, Retry, 0.95, batch=300))
    assert plain["r429"] > 0
    assert bucket["r429"] == 0 and bucket["failed"] == 0 and bucket["calls"] >= 300


def test_the_run_is_deterministic_for_a_seed() -> None:
    a = run_virtual(llm_batch(LLM, 4, Retry, None, batch=40, seed=1))
    b = run_virtual(llm_batch(LLM, 4, Retry, None, batch=40, seed=1))
    assert a == b
