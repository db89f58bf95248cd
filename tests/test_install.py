"""README's commands, .ci/run and environment.yml install the same pinned versions.

The lessons' saved outputs depend on library versions (numpy's random streams, pandas'
formatting, WordLlama's vectors), so every way of installing perflab goes through one
lock, constraints.txt, and this environment must be the one it describes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from perflab import lock

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)
    return [line for block in blocks[:2] for line in block.splitlines() if line.strip()]


def test_readme_starts_with_two_commands_that_install_through_the_lock() -> None:
    first, second = _readme_commands()[:2]
    assert "pip install -c constraints.txt -e ." in first and "perflab lab" in first
    assert 'pip install -c constraints.txt -e ".[dev]"' in second and "pytest" in second


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    second = _readme_commands()[1]
    assert second.replace("python3", '"$PYTHON"', 1) in CI


def test_environment_yml_installs_through_the_same_lock() -> None:
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    pip_lines = re.findall(
        r"^\s+- (-c .*|-e .*|[A-Za-z].*)$", text.split("- pip:", 1)[1], re.MULTILINE
    )
    assert "-c constraints.txt" in pip_lines and "-e .[dev]" in pip_lines
    conda_part = text.split("- pip:", 1)[0].split("dependencies:", 1)[1]
    pinned = {name for name in re.findall(r"^\s+- ([A-Za-z][\w.-]*)", conda_part, re.MULTILINE)}
    assert pinned <= {"python", "pip"}, f"conda pins outside constraints.txt: {pinned}"


def test_every_pin_is_what_this_environment_has() -> None:
    differs = lock.drift(numbers_only=False)
    assert not differs, (
        "this environment is not the one constraints.txt describes; reinstall with "
        "README's command. " + "; ".join(map(str, differs))
    )


def test_the_python_range_is_stated_the_same_everywhere() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    low = re.search(r">=\s*3\.(\d+)", project["requires-python"])
    stated = re.search(r"Python 3\.(\d+)-3\.(\d+)", README)
    assert low and stated, "README and pyproject must state the Python range"
    assert int(stated[1]) == int(low[1])
    assert f"sys.version_info < (3, {low[1]})" in CI
    tested = re.search(r"for version in ([\d. ]+); do", CI)
    assert tested and tested[1].split() == [
        f"3.{m}" for m in range(int(stated[1]), int(stated[2]) + 1)
    ]
    assert (3, int(stated[1])) <= sys.version_info[:2] <= (3, int(stated[2]))


def test_the_wheel_carries_the_lock() -> None:
    import tomllib

    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]
    assert build["build"]["targets"]["wheel"]["force-include"]["constraints.txt"] == (
        "perflab/constraints.txt"
    )


def test_a_bad_lock_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "constraints.txt"
    bad.write_text("# numbers: x\nnumpy>=2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"constraints.txt:2: expected 'name==version'"):
        lock.read_pins(bad)


def test_drift_names_a_numbers_library_and_skips_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "constraints.txt"
    path.write_text("# numbers: these\nnumpy==0.0.1\n\n# tools\npytest==0.0.1\n", encoding="utf-8")
    pins = lock.read_pins(path)
    assert [(p.name, p.numbers) for p in pins] == [("numpy", True), ("pytest", False)]
    (only,) = lock.drift(pins)
    assert only.pin.name == "numpy" and "numbers or formatting may differ" in str(only)
    assert len(lock.drift(pins, numbers_only=False)) == 2


def test_doctor_warns_one_line_per_drifting_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from perflab.cli import main

    path = tmp_path / "constraints.txt"
    path.write_text("# numbers:\nnumpy==0.0.1\npandas==0.0.2\n", encoding="utf-8")
    monkeypatch.setattr(lock, "constraints_path", lambda: path)
    main(["doctor"])
    out = capsys.readouterr().out
    warned = [line for line in out.splitlines() if line.startswith("~~ ")]
    assert len(warned) == 2 and "numpy" in warned[0] and "0.0.1" in warned[0]
