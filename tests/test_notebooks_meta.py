"""Structure checks on the lesson notebooks (nbval checks their outputs; this checks the rest).

Every lesson is saved with its outputs, opens with a title, runs on the ``python3`` kernel,
and carries nothing of the machine it was run on: no API keys, no absolute paths, no
memory addresses (which would also make nbval's comparison flaky).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

SECRET_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),  # OpenAI
    re.compile(r"tvly-[A-Za-z0-9_\-]{10,}"),  # Tavily
    re.compile(r"eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}"),  # JWTs (Supabase keys)
    re.compile(r"postgres(?:ql)?://[^\s:/]+:[^\s@/]+@"),  # a URL with a password in it
]
MACHINE_PATH = re.compile(
    r"(?<![\w.])(/work/|/home/|/Users/|/tmp/|/root/|/private/var/|[A-Z]:\\\\)"
)
MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")
MD_LINK = re.compile(r"\]\(([^)\s#]+\.ipynb)(?:#[^)]*)?\)")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _output_texts(nb: dict[str, Any]) -> list[str]:
    """Every text-like thing a notebook's outputs hold (images excluded)."""
    texts: list[str] = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append("".join(out["text"]))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    texts.append(value if isinstance(value, str) else json.dumps(value))
            if "traceback" in out:
                texts.append("\n".join(out["traceback"]))
    return texts


def _id(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS))


def test_there_are_lessons() -> None:
    """The curriculum ships at least the welcome notebook and one lesson."""
    names = {p.name for p in LESSONS}
    assert "00_welcome.ipynb" in names
    assert len(LESSONS) >= 2


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_opens_with_a_title(path: Path) -> None:
    """The first cell is markdown and starts with a level-1 heading."""
    first = _load(path)["cells"][0]
    assert first["cell_type"] == "markdown"
    assert "".join(first["source"]).lstrip().startswith("# ")


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_uses_the_python3_kernel(path: Path) -> None:
    """The kernelspec is python3, the kernel nbval and `perflab check` start."""
    assert _load(path)["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_is_saved_executed_with_outputs(path: Path) -> None:
    """Every non-empty code cell was executed, in order, and the notebook has outputs."""
    cells = [
        c for c in _load(path)["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()
    ]
    counts = [c["execution_count"] for c in cells]
    assert all(isinstance(n, int) for n in counts), f"unexecuted cells in {path.name}"
    assert counts == sorted(counts), f"cells of {path.name} were run out of order"
    assert any(c["outputs"] for c in cells), f"{path.name} has no saved outputs"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_has_no_errors_in_outputs(path: Path) -> None:
    """No saved output is an exception traceback."""
    for cell in _load(path)["cells"]:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{path.name}: {out.get('ename')}"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_holds_no_secrets(path: Path) -> None:
    """Neither sources nor outputs contain anything shaped like an API key or password URL."""
    text = path.read_text(encoding="utf-8")
    for pattern in SECRET_PATTERNS:
        match = pattern.search(text)
        assert match is None, f"{path.name} contains something like a secret ({pattern.pattern})"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_outputs_hold_no_machine_paths(path: Path) -> None:
    """Outputs name no absolute path of the machine that ran them (home, /tmp, the checkout)."""
    home = str(Path.home())
    for text in _output_texts(_load(path)):
        assert MACHINE_PATH.search(text) is None, (
            f"{path.name}: absolute path in output: {text[:200]!r}"
        )
        assert home == "/" or home not in text, f"{path.name}: home directory in output"
        assert str(ROOT) not in text, f"{path.name}: checkout path in output"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_outputs_hold_no_memory_addresses(path: Path) -> None:
    """No repr with an object id (``at 0x7f...``): it changes every run and breaks nbval."""
    for text in _output_texts(_load(path)):
        assert MEMORY_ADDRESS.search(text) is None, f"{path.name}: memory address in {text[:200]!r}"


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_notebook_links_resolve(path: Path) -> None:
    """Every relative link to another notebook points to a file that exists."""
    for cell in _load(path)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for target in MD_LINK.findall("".join(cell["source"])):
            if "://" in target:
                continue
            assert (path.parent / target).resolve().exists(), (
                f"{path.name} links to missing {target}"
            )


@pytest.mark.parametrize("path", LESSONS, ids=_id)
def test_lesson_is_listed_in_docs(path: Path) -> None:
    """docs/lessons.md names every lesson notebook."""
    docs = (ROOT / "docs" / "lessons.md").read_text(encoding="utf-8")
    assert _id(path) in docs, f"docs/lessons.md does not mention {_id(path)}"
