"""Keys never leak: CLI commands and the live pipeline, run with fake keys, never show them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from perflab.config import load_settings
from perflab.live import run_live
from perflab.sim import DatabaseParams, ServiceParams
from perflab.sim.standin import StandInConfig, StandInServer
from tests.cli.conftest import Run

KEYS = {
    "OPENAI_API_KEY": "sk-test-LEAKCHECK123",
    "TAVILY_API_KEY": "tvly-test-LEAKCHECK456",
    "SUPABASE_KEY": "sb-test-LEAKCHECK789",
    "DATABASE_URL": "postgresql://app:pw-LEAKCHECK000@127.0.0.1:9/app",
}
SECRETS = ("LEAKCHECK123", "LEAKCHECK456", "LEAKCHECK789", "LEAKCHECK000")


@pytest.fixture
def standin() -> Iterator[StandInServer]:
    """The OpenAI + Tavily stand-in on 127.0.0.1, answering in milliseconds."""
    with StandInServer(StandInConfig(latency_scale=0.001)) as server:
        yield server


def _live_env(server: StandInServer) -> dict[str, str]:
    return {
        **KEYS,
        "PERFLAB_LLM_BACKEND": "openai",
        "PERFLAB_SEARCH_BACKEND": "tavily",
        "PERFLAB_EMBEDDER": "openai",
        "OPENAI_BASE_URL": server.url + "/v1",
        "TAVILY_BASE_URL": server.url,
    }


def _assert_clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"secret fragments {leaked} appeared in the output"


@pytest.mark.parametrize(
    "args",
    [("config", "show"), ("config", "show", "--json"), ("doctor",), ("db", "url")],
    ids=["config-show", "config-show-json", "doctor", "db-url"],
)
def test_cli_commands_never_print_keys(
    run: Run, standin: StandInServer, args: tuple[str, ...]
) -> None:
    """config show, doctor and db url, run with fake keys set, print none of them."""
    done = run(*args, env=_live_env(standin))
    _assert_clean(done.stdout + done.stderr)


def test_cli_live_pipeline_never_prints_keys(run: Run, standin: StandInServer) -> None:
    """`perflab sim run --live` over the stand-in succeeds, says what was real, and prints no key."""
    done = run("sim", "run", "--live", "--requests", "6", env=_live_env(standin))
    assert done.returncode == 0, done.stderr
    assert "real services: search, llm, embeddings" in done.stdout
    assert standin.llm.stats().calls >= 1
    _assert_clean(done.stdout + done.stderr)


def test_live_pipeline_logs_and_output_hold_no_keys(
    data_dir: object,
    standin: StandInServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """run_live with DEBUG logging on every logger (openai, httpx, httpcore) logs and prints no key."""
    for name, value in _live_env(standin).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABASE_URL")
    caplog.set_level(logging.DEBUG)
    result = run_live(
        requests=6,
        settings=load_settings(env_file=None),
        services=ServiceParams(database=DatabaseParams(latency_scale=0.001)),
    )
    out, err = capfd.readouterr()
    assert result.summary.completed == 6
    assert caplog.records, "DEBUG logging captured nothing: the check would be vacuous"
    _assert_clean(caplog.text + out + err + repr(result) + result.frame.to_csv())


def test_refused_key_error_does_not_quote_the_key(
    data_dir: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in that wants another key answers 401; each request's error names the variable, not the value."""
    with StandInServer(StandInConfig(latency_scale=0.001, api_key="sk-the-right-one")) as server:
        for name, value in _live_env(server).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("DATABASE_URL")
        result = run_live(
            requests=2,
            settings=load_settings(env_file=None),
            services=ServiceParams(database=DatabaseParams(latency_scale=0.001)),
        )
    errors = result.frame["error"].dropna().tolist()
    assert len(errors) == 2 and all("ConfigError" in e and "_API_KEY" in e for e in errors)
    _assert_clean(" ".join(errors))
