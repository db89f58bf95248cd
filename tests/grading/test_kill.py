"""A notebook can't make the grader kill anything but its own run, and none of its run survives.

Every test here runs the grader inside a PID namespace made for the test (``unshare``), so
a regression that kills "every process it can signal" kills only that namespace's
processes, never the test machine's. Inside it, a decoy process stands for the teacher's
other processes: the hostile notebook writes the decoy's id (and 1, and garbage) into
every file it can reach, and the decoy must survive. The processes the notebook starts,
including daemons in sessions of their own and double-forked ones, must not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perflab.grading import sandbox

from ._helpers import cell, exercise, notebook, references, write

pytestmark = pytest.mark.skipif(
    not sandbox._probe_namespace(),
    reason="needs util-linux `unshare` allowed to make PID namespaces (root, or user "
    "namespaces); CI runs as root and has it",
)

#: Starts three learner processes that try to outlive the run, each tagged with MARK in
#: its command line so the test can look for it: a plain child, a child in its own
#: session, and a double-forked daemon.
SPAWN = """
import os, subprocess, sys
MARK = {mark!r}
hold = [sys.executable, '-c', 'import time; time.sleep(600)', MARK]
kids = [subprocess.Popen(hold), subprocess.Popen(hold, start_new_session=True)]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, hold)
    os._exit(0)
"""

#: Writes the decoy's id, 1 and garbage into every file the kernel can write near its run.
POISON = """
import glob, os
decoy = open({decoy_file!r}).read().strip()
targets = ['../run/kernel.pid', '../kernel.pid', 'kernel.pid']
targets += glob.glob('../**/*', recursive=True)
for i, target in enumerate(targets):
    value = (decoy, '1', '-1', '0', 'garbage')[i % 5]
    try:
        if not os.path.isdir(target):
            open(target, 'w').write(value)
    except OSError:
        pass
"""

#: The script run as process 1 of the test's namespace: a decoy, the grader, a report.
DRIVER = """
import json, os, subprocess, sys, time
from pathlib import Path
import psutil
from perflab.grading.runner import CheckOptions, check_notebook

import resource
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))  # a guard: this test's own
decoy = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', 'decoy'],
                         start_new_session=True)
open({decoy_file!r}, 'w').write(str(decoy.pid))
options = CheckOptions(seeds=(7,), timeout_s=5, interrupt_grace_s=1,
                       isolation={isolation!r}, run_cap_s={cap!r},
                       reference_dirs=(Path({refs!r}),), **{extra!r})
report = check_notebook({path!r}, options)
time.sleep(0.5)

def alive(p):
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

def command(p):
    try:
        return ' '.join(p.cmdline())
    except psutil.Error:
        return ''

left = [p.pid for p in psutil.process_iter()
        if p.pid != os.getpid() and {mark!r} in command(p) and alive(p)]
print(json.dumps({{
    'decoy_alive': decoy.poll() is None and alive(psutil.Process(decoy.pid)),
    'left': left,
    'rows': [[r.exercise, r.status.value, r.feedback] for r in report.results],
}}))
decoy.kill()
"""


def _in_namespace(
    tmp_path: Path,
    nb: Any,
    isolation: str,
    cap: float | None = None,
    exercises: tuple[str, ...] = ("ok",),
    **extra: Any,
) -> Any:
    """Grade ``nb`` inside a fresh PID namespace; what survived, and the report's rows.

    ``exercises`` are the reference solution's; ``extra`` goes to ``CheckOptions``.
    """
    (refs,) = references(tmp_path / "refs", *exercises)
    mark = f"perflab-kill-test-{tmp_path.name}"
    path = write(nb, tmp_path / "learner.ipynb")
    text = path.read_text(encoding="utf-8").replace("@MARK@", mark)
    path.write_text(text.replace("@DECOY@", str(tmp_path / "decoy.pid")), encoding="utf-8")
    script = DRIVER.format(
        decoy_file=str(tmp_path / "decoy.pid"),
        isolation=isolation,
        cap=cap,
        path=str(path),
        mark=mark,
        refs=str(refs),
        extra=extra,
    )
    done = subprocess.run(
        [*sandbox._probe_namespace(), sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _hostile(*extra: Any) -> Any:
    spawn = SPAWN.format(mark="@MARK@")
    poison = POISON.format(decoy_file="@DECOY@")
    return notebook(
        cell(spawn),
        cell(poison),
        *exercise("ok"),
        *extra,
        exercises=["ok"],
    )


@pytest.mark.parametrize("isolation", ["pid-namespace", "subreaper"])
def test_ids_written_by_the_kernel_kill_nothing_and_the_run_leaves_nothing(
    tmp_path: Path, isolation: str
) -> None:
    result = _in_namespace(tmp_path, _hostile(), isolation)
    assert result["decoy_alive"], result
    assert result["left"] == [], f"learner processes outlived the run: {result}"
    statuses = {row[0]: row[1] for row in result["rows"]}
    assert statuses["ok"] == "passed", result  # the poisoned files don't spoil grading


def test_a_cell_that_kills_everything_reaches_only_its_own_run(tmp_path: Path) -> None:
    killer = cell("import os, signal\nos.kill(-1, signal.SIGKILL)")
    result = _in_namespace(tmp_path, _hostile(killer), "pid-namespace")
    assert result["decoy_alive"], result
    assert result["left"] == [], result


@pytest.mark.parametrize("isolation", ["pid-namespace", "subreaper"])
def test_the_run_cap_ends_every_process_of_the_run(tmp_path: Path, isolation: str) -> None:
    stubborn = cell(
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.1)"
    )
    result = _in_namespace(tmp_path, _hostile(stubborn), isolation, cap=25.0)
    assert result["decoy_alive"], result
    assert result["left"] == [], result


def test_stop_refuses_process_group_one() -> None:
    class Fake:
        pid = 1

        def poll(self) -> None:
            return None

    with pytest.raises(ValueError, match="refusing"):
        sandbox.stop(Fake(), sandbox.Isolation("subreaper"))  # type: ignore[arg-type]


def test_unknown_isolation_is_refused_with_the_choices() -> None:
    from perflab.grading.runner import CheckOptions

    with pytest.raises(ValueError, match="pid-namespace, subreaper, process-tree"):
        CheckOptions(isolation="chroot")


def test_weaker_isolation_is_reported(tmp_path: Path) -> None:
    from perflab.grading.runner import CheckOptions, check_notebook

    path = write(notebook(*exercise("ok"), exercises=["ok"]), tmp_path / "nb.ipynb")
    refs = references(tmp_path / "refs", "ok")
    options = CheckOptions(seeds=(3,), timeout_s=10, isolation="subreaper", reference_dirs=refs)
    report = check_notebook(path, options)
    notes = [r.feedback for r in report.results if r.exercise == "(notebook)"]
    assert any("not enforced (subreaper)" in n for n in notes), notes


#: Cells that each try to escape the run; each raises with what it managed, so the
#: report's row for its cell says what happened.
ESCAPES = {
    "memory": "block = bytearray(3 * 2**30)  # 3 GB, over the 1 GB limit",
    "forks": (
        "import os, time\n"
        "for _ in range(600):  # bounded, so a regression can't take the machine down\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(120)\n"
        "        os._exit(0)"
    ),
    "writes": (
        "import os\n"
        "done = []\n"
        "for target in {targets!r}:\n"
        "    try:\n"
        "        open(os.path.expanduser(target), 'a').write('x')\n"
        "        done.append(target)\n"
        "    except OSError:\n"
        "        pass\n"
        "raise RuntimeError(f'written: {{done}}')"
    ),
    "sees": (
        "import os\n"
        "procs = [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit()]\n"
        "raise RuntimeError(f'decoy visible: {any(b\"decoy\" in c for c in procs)}, '\n"
        "                   f'uid {os.getuid()}, home {os.path.expanduser(\"~\")}')"
    ),
}


@pytest.fixture(scope="module")
def escapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[str]]:
    """One hostile notebook trying every escape, graded once inside the test's namespace."""
    import perflab

    tmp_path = tmp_path_factory.mktemp("escapes")
    root = Path(perflab.__file__).resolve().parents[1]
    targets = [
        "~/.bashrc",
        "/tmp/in-tmp.txt",
        str(root / "solutions" / "perflab-escape.txt"),
        str(root / "perflab" / "grading" / "perflab_escape.py"),
        str(Path.home() / ".perflab-escape"),
    ]
    cells = [
        cell(ESCAPES[k].format(targets=targets) if k == "writes" else ESCAPES[k]) for k in ESCAPES
    ]
    nb = notebook(*exercise("ok"), *cells, exercises=["ok"])
    result = _in_namespace(tmp_path, nb, "pid-namespace", memory_mb=1024, max_processes=64)
    texts = (
        {
            k: next(f for _, _, f in result["rows"] if f"code cell {i + 5}" in f)
            for i, k in enumerate(ESCAPES)
        }
        if result["rows"]
        else {}
    )
    result["texts"] = texts
    return result, targets


def test_a_20_gb_allocation_fails_the_notebook_not_the_machine(escapes: Any) -> None:
    """Memory is limited (RLIMIT_AS): a huge allocation is a MemoryError in its cell."""
    result, _ = escapes
    assert "raised MemoryError" in result["texts"]["memory"], result["rows"]


def test_a_fork_bomb_fails_the_notebook_not_the_machine(escapes: Any) -> None:
    """Processes are limited (a uid of the run's own + RLIMIT_NPROC): forking fails early."""
    result, _ = escapes
    assert "raised BlockingIOError" in result["texts"]["forks"], result["rows"]
    assert result["left"] == [] and result["decoy_alive"]


def test_writes_outside_the_run_folder_are_blocked_and_inside_reported(escapes: Any) -> None:
    """HOME and /tmp are the run's own (and reported); the checkout, the solutions and the
    grader's home can't be written."""
    result, targets = escapes
    assert "written: ['~/.bashrc', '/tmp/in-tmp.txt']" in result["texts"]["writes"], result
    wrote = " ".join(f for ex, _, f in result["rows"] if "wrote files" in f)
    assert "home/.bashrc" in wrote and "in-tmp.txt" in wrote
    for target in targets[2:]:
        assert not Path(target).exists(), target


def test_the_kernel_sees_only_its_own_run(escapes: Any) -> None:
    """In the run's PID namespace no other process is visible; the uid and HOME are the run's."""
    result, _ = escapes
    text = result["texts"]["sees"]
    assert "decoy visible: False" in text and "uid 0," not in text and "home /tmp/home" in text
    assert not any(status == "warning" and "not enforced" in f for _, status, f in result["rows"])
