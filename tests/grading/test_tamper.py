"""The kernel can't rewrite what the worker saves: output.ipynb, its check records, result.json.

A learner's cell finds the worker's folder (``../run`` from its working folder, ``/tmp/run``
in the jail), rewrites the executed notebook so that an earlier cell's error is gone and a
wrong answer's check record carries the right value, writes ``result.json``, and makes
both files and the folder read-only, so the worker's own later saves fail. Before the
kernel was kept out of that folder, this notebook graded as "all passed".
"""

from __future__ import annotations

from pathlib import Path

from perflab.grading.results import Status
from perflab.grading.runner import CheckOptions, check_notebook

from ._helpers import by_exercise, cell, exercise, notebook, notes, references, write

FAST = CheckOptions(seeds=(7,), timeout_s=20, output_cap_bytes=1_000_000, interrupt_grace_s=2)

#: The forging cell: reads what the worker saved so far and writes a clean version back.
FORGE = r"""
import json, os
found = [d for d in (os.path.join(os.getcwd(), "..", "run"), "/tmp/run")
         if os.path.exists(os.path.join(d, "output.ipynb"))]
folder = found[0]
with open(os.path.join(folder, "output.ipynb")) as f:
    nb = json.load(f)
for c in nb["cells"]:
    c["outputs"] = [o for o in c.get("outputs", []) if o.get("output_type") != "error"]
    for o in c["outputs"]:
        record = o.get("data", {}).get("application/vnd.perflab.check+json")
        if record and record.get("exercise") == "bad":
            record["answer"] = sum(range(seed % 97 + n))
            record["status"] = "passed"
    c.setdefault("metadata", {}).setdefault("perflab_run", {}).update(started=True, done=True)
nb["metadata"].setdefault("perflab_run", {})["finished"] = True
for name, text in (("output.ipynb", json.dumps(nb)), ("result.json", '{"outcome": "ran"}')):
    path = os.path.join(folder, name)
    if os.path.exists(path):
        os.chmod(path, 0o644)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o444)
os.chmod(folder, 0o555)
print("forged")
"""


def _forging_notebook(tmp_path: Path) -> tuple[Path, tuple[Path, ...]]:
    refs = references(tmp_path / "refs", "ok", "bad")
    nb = notebook(
        *exercise("ok"),
        cell("raise RuntimeError('this cell must be reported')"),
        *exercise("bad", "answer_bad = -1"),
        cell(FORGE),
        exercises=["ok", "bad"],
    )
    return write(nb, tmp_path / "learner.ipynb"), refs


def test_a_kernel_rewriting_output_and_result_files_is_still_reported(tmp_path: Path) -> None:
    """The error and the wrong answer are graded as they happened, not as forged."""
    import dataclasses

    path, refs = _forging_notebook(tmp_path)
    report = check_notebook(path, dataclasses.replace(FAST, reference_dirs=refs))
    rows = by_exercise(report)
    assert rows["ok"].status is Status.PASSED, rows["ok"].feedback
    assert rows["bad"].status is Status.FAILED, rows["bad"].feedback
    errors = [r for r in notes(report) if r.status is Status.ERROR]
    assert any("this cell must be reported" in r.feedback for r in errors), notes(report)
    assert not report.passed
