"""The import walls between perflab's layers (docs/architecture.md).

The engine sits at the bottom; the simulator (``perflab.sim``) and the real backends
(``perflab.backends``) stand side by side on it and never import each other;
composition (``perflab.compose``, ``perflab.live``) puts them together; grading, the
CLI, viz and widgets sit on top. Two kinds of check hold that picture:

* what a fresh interpreter loads (``sys.modules`` after one import), case by case;
* the import graph read from the source with ``ast``, counting imports inside
  functions (they run too, only later) but not ``if TYPE_CHECKING:`` blocks (they
  never run): the layer rules and "no import cycle".
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "perflab"

#: Top-level modules of the engine (besides the cache and embedders packages).
ENGINE_MODULES = (
    "aio",
    "alerts",
    "arrays",
    "batcher",
    "breaker",
    "chunking",
    "clock",
    "config",
    "errors",
    "formulas",
    "http_errors",
    "intervals",
    "limits",
    "metrics",
    "models",
    "monitor",
    "paths",
    "pool",
    "remote",
    "retry",
    "scaling",
    "secret",
    "services",
    "stats",
)
ENGINE_PACKAGES = ("cache", "embedders")
#: What the engine may never import.
ABOVE_ENGINE = (
    "sim",
    "backends",
    "grading",
    "cli",
    "viz",
    "viz_scaling",
    "widgets",
    "compose",
    "live",
    "course",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The deepest perflab module ``name`` refers to (a module, or the package holding it)."""
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that can run: module level and inside functions, not TYPE_CHECKING."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for stmt in node.orelse for n in _runtime_imports_of(stmt))
            continue
        yield from _runtime_imports_of(node)


def _runtime_imports_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _runtime_imports(node)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # a relative import: resolve against this module's package
            package = (
                module if _modules()[module].name == "__init__.py" else module.rpartition(".")[0]
            )
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = [base] + [f"{base}.{alias.name}" for alias in node.names]
    found = {_resolve(n) for n in names if n == "perflab" or n.startswith("perflab.")}
    return {t for t in found if t is not None and t != module}


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the perflab modules it imports (at any depth, TYPE_CHECKING excluded)."""
    graph = {}
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for node in _runtime_imports(tree):
            edges |= _targets(module, node)
        graph[module] = frozenset(edges)
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_engine(module: str) -> bool:
    return _layer(module) in ENGINE_MODULES + ENGINE_PACKAGES


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in import_graph().get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _loaded_after(statement: str) -> list[str]:
    """The perflab modules a fresh interpreter has loaded after running ``statement``."""
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(m for m in sys.modules if m.startswith('perflab'))))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_the_graph_sees_imports_inside_functions() -> None:
    """The walk finds a lazy import (compose opens the PostgreSQL store inside open_store)."""
    assert "perflab.backends.factory" in import_graph()["perflab.compose"]


def test_the_graph_skips_type_checking_imports() -> None:
    """An import under ``if TYPE_CHECKING:`` never runs, so it is no edge."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import perflab.sim\n"
    )
    assert [n for n in _runtime_imports(tree) if "perflab" in ast.unparse(n)] == []


def test_import_perflab_cache_loads_no_backend_and_no_simulator() -> None:
    """``import perflab.cache`` loads neither perflab.backends nor perflab.sim."""
    loaded = _loaded_after("import perflab.cache")
    assert "perflab.cache" in loaded
    assert [m for m in loaded if m.startswith(("perflab.backends", "perflab.sim"))] == []


BACKENDS = sorted(m for m in _modules() if m.startswith("perflab.backends."))


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_backend_loads_the_simulator(backend: str) -> None:
    """Importing a real backend loads nothing of perflab.sim."""
    loaded = _loaded_after(f"import {backend}")
    assert [m for m in loaded if m.startswith("perflab.sim")] == []


def test_no_backend_imports_the_simulator_even_lazily() -> None:
    """No backend module reaches perflab.sim, even through an import inside a function."""
    bad = {
        m: sorted(t for t in _reachable(m) if t.startswith("perflab.sim"))
        for m in _modules()
        if m.startswith("perflab.backends")
    }
    assert {m: t for m, t in bad.items() if t} == {}


def test_the_simulator_imports_no_backend_even_lazily() -> None:
    """No perflab.sim module reaches perflab.backends: the two stand side by side."""
    bad = {
        m: sorted(t for t in _reachable(m) if t.startswith("perflab.backends"))
        for m in _modules()
        if m.startswith("perflab.sim")
    }
    assert {m: t for m, t in bad.items() if t} == {}


ENGINE = sorted(m for m in _modules() if _is_engine(m))


@pytest.mark.parametrize("module", ENGINE)
def test_engine_module_imports_nothing_above_the_engine(module: str) -> None:
    """An engine module reaches no simulator, backend, grading, CLI, viz or widgets code."""
    above = sorted(t for t in _reachable(module) if _layer(t) in ABOVE_ENGINE)
    assert above == []


@pytest.mark.parametrize(
    "module",
    ["perflab.clock", "perflab.services", "perflab.metrics", "perflab.pool", "perflab.embedders"],
)
def test_engine_module_loads_nothing_above_the_engine(module: str) -> None:
    """A fresh interpreter importing an engine module has loaded only engine modules."""
    loaded = _loaded_after(f"import {module}")
    assert [m for m in loaded if _layer(m) in ABOVE_ENGINE] == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = import_graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    """No two perflab modules import each other, directly or round a loop, even lazily."""
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A made-up graph with a loop is reported, so the test above can fail."""
    fake = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    monkeypatch.setitem(globals(), "import_graph", lambda: fake)
    assert _cycles() == [["a", "b", "c"]]
