"""`perflab sim serve` from the shell: the real openai SDK talks to it, and no key is printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

TEST_KEY = "sk-test-perflab-serve-5ecret"


def test_sim_serve_answers_the_openai_sdk_and_prints_no_key() -> None:
    """The command prints its URL; a chat completion through the SDK works; its output holds no key."""
    import openai

    env = {**os.environ, "OPENAI_API_KEY": TEST_KEY, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perflab",
            "sim",
            "serve",
            "--port",
            "0",
            "--latency-scale",
            "0.001",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first
        client = openai.OpenAI(base_url=f"{match.group(0)}/v1", api_key=TEST_KEY, max_retries=0)
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content
        client.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "5ecret" not in first + out


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A non-positive latency scale or an error rate above 1 is refused by argparse."""
    from perflab.cli import main

    for argv in (["--latency-scale", "0"], ["--error-rate", "1.5"]):
        with pytest.raises(SystemExit):
            main(["sim", "serve", *argv])
    assert "must be" in capsys.readouterr().err
