"""The room on one server, for real: JupyterHub on loopback with deploy/jupyterhub_config.py.

The Hub runs the shipped configuration, with two changes a test needs: a local process
spawner that needs no Linux users (every "home" is a folder under tmp), and no account
creation. A teacher and three learners; each learner's server is spawned through the
Hub's REST API, gets its own copy without solutions, one learner solves an exercise
through their own server's contents API, and the teacher grades the room's
submissions folder with `perflab check --csv`.
"""

from __future__ import annotations

import csv
import http.cookiejar
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXERCISE = "01_percentiles"
LEARNERS = ("ada", "bo", "cy")
TEACHER = "tess"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("configurable-http-proxy") is None,
        reason="configurable-http-proxy is not installed "
        "(npm install -g configurable-http-proxy; .ci/run installs it)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Hub:
    """A running JupyterHub: its public URL, an admin service token, the room folder."""

    def __init__(self, url: str, token: str, room: Path, homes: Path, env: dict[str, str]) -> None:
        self.url, self.token, self.room, self.homes = url, token, room, homes
        self.learner_password = env["PERFLAB_ROOM_PASSWORD"]
        self.teacher_password = env["PERFLAB_TEACHER_PASSWORD"]

    def api(self, method: str, path: str, body: object = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {token or self.token}")
        with urllib.request.urlopen(req, timeout=60) as resp:
            text = resp.read().decode()
        return json.loads(text) if text.strip() else None


TEST_CONFIG = """
import os, sys
load_subconfig({deploy!r})
c.JupyterHub.spawner_class = "simple"  # local processes, no Linux users: tests only
c.SimpleLocalProcessSpawner.home_dir_template = {homes!r} + "/{{username}}"
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.Spawner.args = ["--allow-root"]  # CI runs as root; a real room never does
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.services.append({{"name": "test", "api_token": os.environ["TEST_HUB_TOKEN"]}})
c.JupyterHub.load_roles.append(
    {{"name": "test", "services": ["test"],
      "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users",
                 "read:groups", "list:services", "read:services", "tokens"]}}
)
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    base = tmp_path_factory.mktemp("hub")
    room, homes = base / "room", base / "homes"
    room.mkdir()
    (room / "people.txt").write_text(
        f"teacher {TEACHER}\n" + "".join(f"learner {n}\n" for n in LEARNERS)
    )
    port, token = free_port(), secrets.token_hex(32)
    config = base / "jupyterhub_config.py"
    config.write_text(
        TEST_CONFIG.format(
            deploy=str(REPO / "deploy" / "jupyterhub_config.py"),
            homes=str(homes),
            port=port,
            hub_port=free_port(),
            proxy_port=free_port(),
        )
    )
    env = {
        **os.environ,
        "PERFLAB_ROOM_DIR": str(room),
        "PERFLAB_ROOM_PASSWORD": secrets.token_hex(8),
        "PERFLAB_TEACHER_PASSWORD": secrets.token_hex(16),
        "PERFLAB_ROOM_SYSTEM_USERS": "0",
        "PERFLAB_ROOM_EXERCISES": EXERCISE,  # one exercise keeps the grading short
        "PERFLAB_ROOM_IDLE_MINUTES": "30",
        "TEST_HUB_TOKEN": token,
    }
    log = (base / "hub.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(config)],
        cwd=base,
        env=env,
        stdout=log,
        stderr=log,
    )
    running = Hub(f"http://127.0.0.1:{port}", token, room, homes, env)
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                running.api("GET", "/hub/api/users")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterHub did not start:\n" + (base / "hub.log").read_text())
                time.sleep(0.5)
        yield running
    finally:
        proc.terminate()  # the Hub stops the servers it spawned and its proxy
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def spawn(hub: Hub, name: str) -> None:
    """Start ``name``'s server through the REST API and wait until it is ready."""
    try:
        hub.api("POST", f"/hub/api/users/{name}/server")
    except urllib.error.HTTPError as exc:
        if exc.code != 400:  # 400: already running
            raise
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        user = hub.api("GET", f"/hub/api/users/{name}")
        server = user["servers"].get("")
        if server and server["ready"]:
            return
        time.sleep(1)
    pytest.fail(f"{name}'s server did not become ready")


def test_the_hub_knows_the_room(hub: Hub) -> None:
    """People from people.txt are users; the teacher is the only admin; the culler runs."""
    users = {u["name"]: u for u in hub.api("GET", "/hub/api/users")}
    assert set(users) == {TEACHER, *LEARNERS}
    assert [n for n, u in users.items() if u["admin"]] == [TEACHER]
    assert set(hub.api("GET", "/hub/api/groups/learners")["users"]) == set(LEARNERS)
    services = {s["name"] for s in hub.api("GET", "/hub/api/services").values()}
    assert "idle-culler" in services


def test_each_learner_gets_their_own_copy_without_solutions(hub: Hub) -> None:
    """Spawned through the Hub, each learner has lessons and the exercise, no solutions."""
    for name in LEARNERS:
        spawn(hub, name)
    for name in LEARNERS:
        copy = hub.homes / name / "perflab-curriculum"
        assert (copy / "notebooks" / "00_welcome.ipynb").is_file()
        assert (copy / "exercises" / f"{EXERCISE}.ipynb").is_file()
        assert not (copy / "solutions").exists()
        link = hub.room / "submissions" / name
        assert link.resolve() == (copy / "exercises").resolve()
        # Their own server serves their own copy, which opens on the welcome notebook.
        listing = hub.api("GET", f"/user/{name}/api/contents/exercises")
        assert [i["name"] for i in listing["content"] if i["type"] == "notebook"] == [
            f"{EXERCISE}.ipynb"
        ]
    a, b = (hub.homes / n / "perflab-curriculum" for n in LEARNERS[:2])
    assert a.resolve() != b.resolve()


def test_a_teacher_gets_the_solutions(hub: Hub) -> None:
    """The teacher's own server has a self-paced copy: solutions included."""
    spawn(hub, TEACHER)
    copy = hub.homes / TEACHER / "perflab-curriculum"
    assert (copy / "solutions" / f"{EXERCISE}.ipynb").is_file()
    assert not (hub.room / "submissions" / TEACHER).exists()


def test_the_teacher_grades_the_room_into_a_csv(hub: Hub) -> None:
    """One learner solves the exercise (through their server); the room CSV shows who did."""
    for name in LEARNERS:
        spawn(hub, name)
    solver = LEARNERS[1]
    path = f"/user/{solver}/api/contents/exercises/{EXERCISE}.ipynb"
    mine = hub.api("GET", path)
    solution = json.loads((REPO / "solutions" / f"{EXERCISE}.ipynb").read_text())
    cells = mine["content"]["cells"]
    assert len(cells) == len(solution["cells"])
    for i, cell in enumerate(solution["cells"]):
        if cell["cell_type"] == "code" and "### BEGIN SOLUTION" in "".join(cell["source"]):
            cells[i]["source"] = "".join(cell["source"])  # the learner's answer
    hub.api("PUT", path, {"type": "notebook", "format": "json", "content": mine["content"]})

    teacher_home = hub.homes / TEACHER
    done = subprocess.run(
        [sys.executable, "-m", "perflab", "check", str(hub.room / "submissions"),
         "--seed", "1", "--workers", "2", "--timeout", "120", "--csv", "room.csv"],
        check=False,
        cwd=teacher_home,
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # two learners have not solved it
    rows = list(csv.DictReader(io.StringIO((teacher_home / "room.csv").read_text())))
    assert [r["learner"] for r in rows] == sorted(LEARNERS)
    exercises = [
        k for k in rows[0] if k not in ("learner", "notebook", "passed", "notes", "predictions")
    ]
    assert exercises, rows[0]
    by_learner = {r["learner"]: r for r in rows}
    assert all(by_learner[solver][e] == "passed" for e in exercises), by_learner[solver]
    for name in set(LEARNERS) - {solver}:
        assert all(by_learner[name][e] != "passed" for e in exercises), by_learner[name]
        assert by_learner[name]["passed"] == f"0/{len(exercises)}"


def log_in(hub: Hub, name: str, password: str) -> bool:
    """Log in through the Hub's login form; True when the Hub accepted the password."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(hub.url + "/hub/login", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    form = urllib.parse.urlencode({"username": name, "password": password, "_xsrf": xsrf})
    try:
        opener.open(hub.url + "/hub/login", data=form.encode(), timeout=30).read()
    except urllib.error.HTTPError as exc:
        assert exc.code == 403, exc.code
        return False
    return any(c.name == "jupyterhub-session-id" for c in jar) and any(
        c.name.startswith("jupyterhub-hub-login") for c in jar
    )


def test_only_teachers_passwords_open_a_teachers_account(hub: Hub) -> None:
    """The room password logs a learner in, but not a teacher: a teacher needs their own."""
    assert log_in(hub, LEARNERS[0], hub.learner_password)
    assert not log_in(hub, TEACHER, hub.learner_password)
    assert log_in(hub, TEACHER, hub.teacher_password)
    assert not log_in(hub, "mallory", hub.learner_password)  # not in people.txt


def test_a_teacher_can_open_any_learners_notebooks_and_a_learner_cannot(hub: Hub) -> None:
    """The teacher (an admin) reads a learner's exercises through that learner's server."""
    owner, other = LEARNERS[0], LEARNERS[2]
    spawn(hub, owner)
    path = f"/user/{owner}/api/contents/exercises/{EXERCISE}.ipynb"
    teacher = hub.api(
        "POST", f"/hub/api/users/{TEACHER}/tokens", {"scopes": [f"access:servers!user={owner}"]}
    )["token"]
    assert hub.api("GET", path, token=teacher)["type"] == "notebook"
    learner = hub.api("POST", f"/hub/api/users/{other}/tokens", {})["token"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        hub.api("GET", path, token=learner)
    assert refused.value.code in (403, 404)
