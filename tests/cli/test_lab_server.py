"""`perflab lab` for real: a JupyterLab server on loopback, driven through its REST API.

The server starts with a PATH that does not hold perflab (``/usr/bin:/bin``), as a
learner's login shell would leave it; `perflab --version` must still work in a terminal
and in a kernel's ``!`` command, because `perflab lab` puts its own scripts folder first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perflab import __version__

pytestmark = pytest.mark.slow
EXPECTED = f"perflab {__version__}"


def _run_in_thread(coroutine: Any) -> Any:
    """asyncio.run in a thread of its own: works even when this worker has a running loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running `perflab lab` server: its base URL and token."""

    def __init__(self, url: str, token: str, root: Path) -> None:
        self.url, self.token, self.root = url, token, root

    def request(self, method: str, path: str, body: object = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text.startswith(("{", "[")) else text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`python -m perflab lab --no-browser` on a free loopback port, in a fresh copy."""
    with running_lab(tmp_path_factory.mktemp("lab")) as (srv, _):
        yield srv


@contextlib.contextmanager
def running_lab(base: Path) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    """Start `perflab lab` in ``base``; stop it (SIGTERM, as a service manager would) after."""
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PATH": "/usr/bin:/bin",  # perflab's scripts folder is not on it
        "JUPYTER_TOKEN": token,
        "JUPYTER_CONFIG_DIR": str(base / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "lab-workspaces"),
        "HOME": str(base),
    }
    assert not Path("/usr/bin/perflab").exists() and not Path("/bin/perflab").exists()
    log = (base / "server.log").open("w")
    command = [sys.executable, "-m", "perflab", "lab", "--no-browser", f"--port={port}"]
    proc = subprocess.Popen(
        [*command, "--dir", str(base / "copy")], cwd=base, env=env, stdout=log, stderr=log
    )
    srv = Server(f"http://127.0.0.1:{port}", token, base / "copy")
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                srv.request("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (base / "server.log").read_text())
                time.sleep(0.5)
        yield srv, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


async def _ws_collect(
    url: str, send: list[str], done: Callable[[list[Any]], bool], timeout: float
) -> list[Any]:
    """Open a websocket, send ``send``, and collect the JSON messages until ``done(them)``."""
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(url)
    got: list[Any] = []
    try:
        for message in send:
            await conn.write_message(message)
        deadline = time.monotonic() + timeout
        while not done(got) and (left := deadline - time.monotonic()) > 0:
            msg = await asyncio.wait_for(conn.read_message(), left)
            if msg is None:
                break
            got.append(json.loads(msg))
    finally:
        conn.close()
    return got


def _ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://") + f"{path}?token={server.token}"


def test_a_terminal_finds_perflab(server: Server) -> None:
    """In a JupyterLab terminal (bash, started by the server), `perflab --version` works."""
    term = server.request("POST", "/api/terminals")
    try:
        command = json.dumps(["stdin", "perflab --version; echo DONE-$((6*7))\r"])

        def stdout(got: list[Any]) -> str:
            return "".join(m[1] for m in got if m[0] == "stdout")

        got = _run_in_thread(
            _ws_collect(
                _ws_url(server, f"/terminals/websocket/{term['name']}"),
                [command],
                lambda got: "DONE-42" in stdout(got),
                timeout=60,
            )
        )
        assert "DONE-42" in stdout(got), stdout(got)[-2000:]
        assert EXPECTED in stdout(got), stdout(got)[-2000:]
        assert "command not found" not in stdout(got)
    finally:
        server.request("DELETE", f"/api/terminals/{term['name']}")


def test_a_kernels_bang_command_finds_perflab(server: Server) -> None:
    """In a notebook's kernel, `!perflab --version` works."""
    kernel = server.request("POST", "/api/kernels", {"name": "python3"})
    msg_id = secrets.token_hex(8)
    request = {
        "header": {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "test",
            "session": secrets.token_hex(8),
            "version": "5.3",
            "date": "",
        },
        "parent_header": {},
        "metadata": {},
        "content": {"code": "!perflab --version", "silent": False},
        "channel": "shell",
        "buffers": [],
    }

    def ours(got: list[Any]) -> list[Any]:
        return [m for m in got if m.get("parent_header", {}).get("msg_id") == msg_id]

    def idle(got: list[Any]) -> bool:
        return any(
            m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
            for m in ours(got)
        )

    try:
        got = _run_in_thread(
            _ws_collect(
                _ws_url(server, f"/api/kernels/{kernel['id']}/channels"),
                [json.dumps(request)],
                idle,
                timeout=90,
            )
        )
        text = "".join(m["content"]["text"] for m in ours(got) if m["msg_type"] == "stream")
        assert idle(got), got[-5:]
        assert EXPECTED in text, text
    finally:
        server.request("DELETE", f"/api/kernels/{kernel['id']}")


def test_it_opens_on_the_welcome_notebook_without_the_news_prompt(server: Server) -> None:
    """The start page is 00_welcome, in the learner's copy; the news plugin is off."""
    req = urllib.request.Request(server.url + f"/?token={server.token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.url.startswith(server.url + "/lab/tree/notebooks/00_welcome.ipynb")
        page = resp.read().decode()
    found = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.DOTALL
    )
    assert found is not None, page[:2000]
    config = json.loads(found.group(1))
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
    home = str(server.root.parent)  # the server's HOME, which it shows as ~
    assert Path(config["serverRoot"].replace("~", home, 1)) == server.root
    listing = server.request("GET", "/api/contents")
    # Only the learner's folders (docs/ holds the glossary the lessons link to): none of
    # the repository's benchmarks/, tests/ or pyproject.toml.
    assert sorted(i["name"] for i in listing["content"]) == [
        "docs",
        "exercises",
        "notebooks",
        "solutions",
    ]


def test_stopping_perflab_lab_stops_jupyterlab(tmp_path: Path) -> None:
    """SIGTERM to `perflab lab` ends the server: it is the server, not its parent."""
    import psutil

    with running_lab(tmp_path) as (srv, proc):
        assert srv.request("GET", "/api/status")
        pid = proc.pid
    root = str(srv.root)
    time.sleep(1)
    left = []
    for p in psutil.process_iter():
        try:
            if root in " ".join(p.cmdline()) and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p.pid)
        except psutil.Error:
            continue
    assert left == [], f"JupyterLab outlived `perflab lab` (pid {pid}): {left}"
