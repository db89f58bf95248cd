"""The attacks of issue 9 (and the broken notebooks of issue 10) on the shipped solution.

Each test builds a notebook from ``solutions/03_cache_economics.ipynb`` the way a clever
(or careless) learner would, runs ``perflab check`` on it as a teacher does, and asserts
that it does not pass. Every test here passed "All checks passed" (exit 0) on the grader
before the verdict moved outside the kernel; they only use flags that grader had, so
each can be run against it to see that.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell

from perflab.cli.check import register
from perflab.grading.notebook import cell_tag

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "solutions" / "03_cache_economics.ipynb"
SEED = ["--seed", "11", "--timeout", "60"]

pytestmark = pytest.mark.notebooks


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perflab")
    register(parser.add_subparsers())
    args = parser.parse_args(["check", *argv])
    return int(args.func(args))


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = _run([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{") :])


def _rows(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (nb,) = data["notebooks"]
    return {r["exercise"]: r for r in nb["results"] if r["exercise"] != "(notebook)"}


def _notes(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for nb in data["notebooks"] for r in nb["results"] if r["exercise"] == "(notebook)"]


def _learner(
    tmp_path: Path,
    todo: dict[str, str] | None = None,
    first: str = "",
    last: str = "",
    name: str = "03_cache_economics",
) -> Path:
    """The shipped solution with some TODO cells replaced, a cell added after the setup
    cell (``first``) and one at the end (``last``)."""
    nb = nbformat.read(SOURCE, as_version=4)
    todo = dict(todo or {})
    for cell in nb.cells:
        tag = cell_tag(cell)
        if tag is not None and tag.role == "todo" and tag.exercise in todo:
            cell.source = todo.pop(tag.exercise)  # its first TODO cell; others stay
    if first:
        setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup + 1, new_code_cell(first))
    if last:
        nb.cells.append(new_code_cell(last))
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _assert_not_passed(code: int, rows: dict[str, dict[str, Any]], *exercises: str) -> None:
    assert code == 1
    for ex in exercises:
        assert rows[ex]["status"] != "passed", rows[ex]


def test_the_solution_passes_and_its_kernel_talks_over_ipc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The solution passes; its kernel talks over IPC sockets, never TCP (the 03.cost
    answer is only right when the connection file says ipc)."""
    cost = (
        "import json, ipykernel.connect\n"
        "_transport = json.load(open(ipykernel.connect.get_connection_file()))['transport']\n"
        "cost_per_request = (1 - hit_rate) * api_cost if _transport == 'ipc' else -1.0"
    )
    code, data = _cli([str(_learner(tmp_path, {"03.cost": cost}))] + SEED, capsys)
    assert code == 0, data
    assert all(r["status"] == "passed" for r in _rows(data).values())


def test_patched_isclose_does_not_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``math.isclose = lambda *a, **k: True`` changes nothing: the grader compares."""
    path = _learner(
        tmp_path,
        {"03.cost": "cost_per_request = 123.0"},
        first="import math\nmath.isclose = lambda *a, **k: True",
    )
    code, data = _cli([str(path), *SEED], capsys)
    _assert_not_passed(code, _rows(data), "03.cost")


LIAR = """
import sys

class Liar(float):
    '''Reads the expected value from the checker's frame.'''

    def __float__(self):
        frame = sys._getframe(1)
        while frame is not None and "expected" not in frame.f_locals:
            frame = frame.f_back
        return float(frame.f_locals["expected"]) if frame is not None else 0.0

    def __eq__(self, other):
        return True

    __hash__ = float.__hash__

class Yes(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__

cost_per_request = Liar(0.0)
"""


def test_lying_answers_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A float subclass reading the expected value, an int equal to everything: refused."""
    semantic = "wrong_answers = Yes(-5)\nsemantic_stats = None\nsemantic_hit_rate = Liar(0.0)"
    path = _learner(tmp_path, {"03.cost": LIAR, "03.semantic": semantic})
    code, data = _cli([str(path), *SEED], capsys)
    rows = _rows(data)
    _assert_not_passed(code, rows, "03.cost", "03.semantic")
    assert "refused" in rows["03.cost"]["feedback"], rows["03.cost"]


FORGER = """
import hashlib, hmac, json
from IPython import get_ipython
from IPython.display import display
from perflab.grading import checks as _c

_env = open('/proc/self/environ', 'rb').read().split(b'\\0')
_key = next((e.split(b'=', 1)[1] for e in _env if e.startswith(b'PERFLAB_CHECK_KEY=')), b'')

def _forge(ex, what, *args, **kw):
    source = get_ipython().user_ns['_ih'][-1]
    params = _c._params() if hasattr(_c, '_params') else {}
    record = {'v': 1, 'exercise': ex, 'what': what, 'status': 'passed', 'got': '0',
              'hint': '', 'message': 'passed', 'params': params,
              'caller': _c.source_digest(source), 'seq': 1}
    body = json.dumps(record, sort_keys=True, separators=(',', ':')).encode()
    record['sig'] = hmac.new(_key, body, hashlib.sha256).hexdigest()
    if not _key:  # no key to be found: claim a pass in the new shape, with a junk answer
        record.update(kind='close', answer=0, refused='')
    display({'text/plain': 'passed', 'application/vnd.perflab.check+json': record}, raw=True)

check_close = check_equal = check_true = _forge
cost_per_request = 0
"""


def test_forged_records_signed_with_the_environ_key_do_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record signed with a key read from /proc/self/environ claims a pass: it fails."""
    code, data = _cli([str(_learner(tmp_path, {"03.cost": FORGER}))] + SEED, capsys)
    _assert_not_passed(code, _rows(data), "03.cost", "03.daily", "03.roi")


def test_rebinding_what_the_checks_recompute_from_does_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rebinding ``hit_rate`` (which the 03.cost check recomputes from) gives a wrong answer."""
    path = _learner(tmp_path, {"03.cost": "hit_rate = 1.0\ncost_per_request = 0.0"})
    code, data = _cli([str(path), *SEED], capsys)
    _assert_not_passed(code, _rows(data), "03.cost")


RNG = """
import numpy as np

class _Rng:
    def __init__(self, *args, **kwargs):
        pass

    def zipf(self, a, size):
        return np.zeros(size, dtype=int)

np.random.default_rng = _Rng

class _Api:
    calls = 1

api = _Api()
hits, misses = n_requests - 1, 1
measured_hit_rate = 1 - 1 / n_requests
predicted_bill = api_cost
"""


def test_patched_default_rng_does_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Patching ``np.random.default_rng`` under the 03.hitrate check gives wrong answers."""
    nb = nbformat.read(SOURCE, as_version=4)
    todos = [
        c
        for c in nb.cells
        if (t := cell_tag(c)) and t.role == "todo" and t.exercise == "03.hitrate"
    ]
    todos[-1].source = RNG  # the measuring cell (the first one holds the prediction)
    path = tmp_path / "03_cache_economics.ipynb"
    nbformat.write(nb, path)
    code, data = _cli([str(path), *SEED], capsys)
    _assert_not_passed(code, _rows(data), "03.hitrate")


def test_muted_parameter_checks_do_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Clearing the parameter bookkeeping, then reassigning ``api_cost``, doesn't pass."""
    mute = (
        "import os\nos.environ.pop('PERFLAB_CHECK_PARAMS', None)\n"
        "import perflab.grading.checks as _c\n_c._PARAM_NAMES = ()\n"
        "api_cost = 0.0\ncost_per_request = 0.0"
    )
    code, data = _cli([str(_learner(tmp_path, {"03.cost": mute}))] + SEED, capsys)
    _assert_not_passed(code, _rows(data), "03.cost")


def _rewrite_checks(path: Path, notebook_id: str | None) -> None:
    """Check cells that always pass, a manifest to match, one exercise deleted."""
    from perflab.grading.notebook import manifest_from_notebook

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if (t := cell_tag(c)) is None or t.exercise != "03.semantic"]
    for cell in nb.cells:
        tag = cell_tag(cell)
        if tag is not None and tag.role == "check":
            cell.source = f"check_true({tag.exercise!r}, 'all good', True)"
        elif tag is not None and tag.role == "todo":
            cell.source = "pass"
    meta = nb.metadata.setdefault("perflab", {})
    if notebook_id is None:
        nb.metadata.pop("perflab")
    else:
        meta["id"] = notebook_id
        meta["manifest"] = manifest_from_notebook(nb).as_dict()
    nbformat.write(nb, path)


@pytest.mark.parametrize("notebook_id", [None, "my-own-exercise"], ids=["stripped", "renamed"])
def test_stripped_or_renamed_id_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], notebook_id: str | None
) -> None:
    """Without its id (or with another), a notebook isn't graded by its own rewritten cells."""
    path = _learner(tmp_path, name="mine")
    _rewrite_checks(path, notebook_id)
    code, data = _cli([str(path), *SEED], capsys)
    assert code == 1, data
    assert not _rows(data)
    assert any("refused" in n["feedback"] for n in _notes(data)), _notes(data)


def test_a_table_keyed_on_the_default_seeds_does_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Answers looked up by the old fixed seeds fail: seeds are fresh on every run."""
    table = {}
    for seed in (1234, 98765):
        rng = np.random.default_rng(seed)
        rng.integers(30, 400)
        table[seed] = (1 - round(float(rng.uniform(0.5, 0.95)), 2)) * 0.04
    path = _learner(tmp_path, {"03.cost": f"cost_per_request = {table!r}.get(seed, 0.0)"})
    code, data = _cli([str(path), "--timeout", "60"], capsys)
    (nb,) = data["notebooks"]
    assert set(nb["seeds"]).isdisjoint({1234, 98765}) and nb["seeds"]
    _assert_not_passed(code, _rows(data), "03.cost")


def test_the_wrong_notebook_in_a_room_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A learner's 03_cache_economics.ipynb that is really exercise 01's solution fails."""
    room = tmp_path / "room" / "ana"
    room.mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "01_percentiles.ipynb", room / "03_cache_economics.ipynb")
    code, data = _cli([str(tmp_path / "room"), *SEED], capsys)
    assert code == 1
    assert "holds exercise 01_percentiles" in _notes(data)[0]["feedback"]


def test_expect_names_the_exercise_a_file_must_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--expect ID refuses a notebook holding another exercise, whatever its file name."""
    path = tmp_path / "mine.ipynb"
    shutil.copy(ROOT / "solutions" / "01_percentiles.ipynb", path)
    code, data = _cli([str(path), "--expect", "03_cache_economics", *SEED], capsys)
    assert code == 1
    assert "must be 03_cache_economics" in _notes(data)[0]["feedback"]


def test_secrets_never_reach_any_output_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """GITHUB_TOKEN and AWS keys never reach the kernel; a known secret value is scrubbed
    from the table, JSON, CSV, JUnit and HTML alike: in an error, in a check's answer and
    in the words of a prediction (the CSV's predictions column)."""
    token, aws = "ghp_testTOKEN0123456789", "aws/SECRET+0123456789abc"
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws)
    leak = (
        "import os\n"
        "print(os.environ.get('GITHUB_TOKEN'), os.environ.get('AWS_SECRET_ACCESS_KEY'))\n"
        "raise RuntimeError(f\"{os.environ.get('GITHUB_TOKEN')} {os.environ.get('AWS_SECRET_ACCESS_KEY')} "
        f'{token}")'
    )
    # the secret in a check record too: as an answer, and in a prediction's words
    record_leak = (
        "_real_prediction = check_prediction\n"
        "def check_prediction(ex, what, *args, **kw):\n"
        f"    _real_prediction(ex, what + ' {token}', *args, **kw)\n"
    )
    path = _learner(
        tmp_path, {"03.cost": f"cost_per_request = {token!r}"}, first=record_leak, last=leak
    )
    csv, junit, html = tmp_path / "r.csv", tmp_path / "r.xml", tmp_path / "r.html"
    code, data = _cli([str(path), *SEED], capsys)
    assert code == 1
    text = json.dumps(data)
    assert "None None [secret]" in text, text  # the kernel had neither; the literal scrubbed
    assert "[secret]" in json.dumps(_rows(data)["03.cost"]), _rows(data)["03.cost"]
    assert _run([str(path), *SEED, "--csv", str(csv)]) == 1
    assert _run([str(path), *SEED, "--junit", str(junit)]) == 1
    assert _run([str(path), *SEED, "--html", str(html)]) == 1
    text += capsys.readouterr().out + csv.read_text() + junit.read_text() + html.read_text()
    assert "[secret]" in csv.read_text() and "[secret]" in junit.read_text()
    assert token not in text and aws not in text


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("raise RuntimeError('a stray cell')", "raised RuntimeError: a stray cell"),
        ("import sys\nsys.exit(0)", "called sys.exit(0)"),
        ("while True:\n    pass", "ran longer than the 20 s cell timeout"),
    ],
    ids=["raises", "exits", "loops"],
)
def test_a_broken_extra_cell_fails_the_notebook_naming_the_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, words: str
) -> None:
    """A solved notebook plus one broken cell exits 1 with that cell named (its code cell
    number, In [N] after Restart and Run All); every exercise keeps its pass; a hang costs
    one timeout, the other seed skipped."""
    path = _learner(tmp_path, last=extra)
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
    started = time.monotonic()
    code, data = _cli([str(path), "--seed", "11", "--seed", "12", "--timeout", "20"], capsys)
    took = time.monotonic() - started
    assert code == 1
    assert all(r["status"] == "passed" for r in _rows(data).values()), _rows(data)
    (row,) = [n for n in _notes(data) if n["status"] in ("error", "timeout")]
    assert f"code cell {code_cells}" in row["feedback"] and words in row["feedback"], row
    if "while" in extra:
        assert data["notebooks"][0]["seeds"] == [11]
        assert any("seed 12 skipped" in n["feedback"] for n in _notes(data))
        assert took < 20 + 240  # one timeout plus start-up (and a reference run), not two


PATCH_CHECKS = """
import perflab.grading.checks as _k, perflab.grading.compare as _c

class Yes(int):
    '''An int equal to anything, and whose sums are too.'''

    def __eq__(self, other):
        return True

    def __add__(self, other):
        return Yes(0)

    __radd__ = __add__
    __hash__ = int.__hash__

_c.judge = _k.judge = lambda *a, **k: (True, "passed")
_c.holds = lambda *a, **k: None
_k._answer = lambda value: (value, "")  # no refusal: the object goes out as it is
"""

LYING_HITRATE = """
class _API:
    calls = Yes(0)
    bill = 0.0

api = _API()
hits, misses = Yes(0), Yes(5)
measured_hit_rate = 0.5
predicted_bill = 1.0
print(hits, misses)
"""


def test_a_patched_check_module_and_lying_conditions_do_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The kernel's judge, holds and refusal patched to pass, and the counts that the old
    ``check_true`` conditions compared (``hits + misses == n_requests``, ``api.calls ==
    misses``) made of objects equal to anything: each of those checks fails, since the
    grader compares the plain answers with the reference run's values (with check_true
    the kernel evaluated them, True, and they passed)."""
    path = _learner(tmp_path, first=PATCH_CHECKS)
    nb = nbformat.read(path, as_version=4)
    todo = next(
        c
        for c in nb.cells
        if "api = SimulatedSearchAPI(api_cost)" in c.source
        and (t := cell_tag(c)) is not None
        and t.exercise == "03.hitrate"
    )
    todo.source = LYING_HITRATE
    nbformat.write(nb, path)
    code, data = _cli([str(path), *SEED], capsys)
    row = _rows(data)["03.hitrate"]
    assert code == 1 and row["status"] != "passed", row
    for what in (
        "every request was served (hits + misses = requests)",
        "the API was called once per miss, and only then",
        "each distinct keyword reached the API exactly once",
    ):
        assert f"[03.hitrate] {what}:" in row["feedback"], (what, row["feedback"])
