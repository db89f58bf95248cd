"""Expected values from outside the learner's kernel: the reference solution's own run.

``perflab check`` never takes an expected value from the learner's notebook. For each
seed it runs the reference solution (``solutions/``, the notebook with the same
``metadata.perflab.id``) with the same parameters, in a run of its own, and keeps each
check's record: exercise, what was checked, the expected value as plain data and the
tolerance. Runs are cached per reference file and parameters, so a room of learners
costs one reference run per exercise notebook and seed.

The learner's notebook runs with its check cells in their *graded form*
(:func:`graded_source`): every expected value is replaced with ``...`` and the code
that only computed expected values is left out, so the learner's kernel never holds
one. What its checks record is only the learner's answers.
"""

from __future__ import annotations

import ast
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHECKS", "SHARED", "Reference", "ReferenceCache", "graded_source"]

#: The check functions, and the position and name of the argument that is the expected
#: value (None: nothing is withheld; ``check_relation`` compares two learner values).
CHECKS: dict[str, tuple[int, str] | None] = {
    "check_close": (3, "expected"),
    "check_equal": (3, "expected"),
    "check_compare": (4, "bound"),
    "check_relation": None,
    "check_true": None,
    "check_prediction": None,
}
#: Keyword arguments the grader takes from the reference's record, never the learner's run.
_WITHHELD = ("expected", "rel_tol", "abs_tol", "hint")


def _check_name(call: ast.Call) -> str | None:
    func = call.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else None
    )
    return name if name in CHECKS else None


class _Withhold(ast.NodeTransformer):
    """Replace each check call's expected value with ``...`` and drop its tolerances."""

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        name = _check_name(node)
        if name is None or CHECKS[name] is None or _decided_in_notebook(node):
            return node
        withheld = CHECKS[name]
        assert withheld is not None
        position, keyword = withheld
        args = list(node.args)
        if len(args) > position:
            args[position] = ast.Constant(...)
        keywords = [k for k in node.keywords if k.arg not in (*_WITHHELD, keyword)]
        if len(args) <= position:
            keywords.append(ast.keyword(keyword, ast.Constant(...)))
        return ast.Call(node.func, args, keywords)


def _decided_in_notebook(call: ast.Call) -> bool:
    """A check with ``reference=False``: its expected value depends on the learner's choices."""
    return any(
        k.arg == "reference" and isinstance(k.value, ast.Constant) and k.value.value is False
        for k in call.keywords
    )


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, *_DEFS)
_COMPOUND = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try)


def _inner(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements directly inside a compound statement."""
    out: list[ast.stmt] = []
    for name in ("body", "orelse", "finalbody"):
        out += getattr(stmt, name, []) or []
    for handler in getattr(stmt, "handlers", []) or []:
        out += handler.body
    return out


def _stored(stmt: ast.stmt) -> set[str]:
    """Names a statement binds or changes (``x = ..``, ``x[i] += ..``, ``def x``, loops)."""
    if isinstance(stmt, _DEFS):
        return {stmt.name}
    if _method_call_on(stmt):
        return {_method_call_on(stmt)}
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        targets = [stmt.target]
    elif isinstance(stmt, ast.Delete):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        targets = [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    out: set[str] = set()
    for target in targets:
        for node in ast.walk(target):
            base = node
            while isinstance(base, (ast.Subscript, ast.Attribute, ast.Starred)):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
    for inner in _inner(stmt) if isinstance(stmt, _COMPOUND) else []:
        out |= _stored(inner)
    return out


def _method_call_on(stmt: ast.stmt) -> str:
    """``x`` for a statement ``x.method(...)`` (it changes ``x``: ``_all.append(1)``)."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute):
            base = func.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and _check_name(stmt.value) is None:
                return base.id
    return ""


def _is_candidate(stmt: ast.stmt) -> bool:
    """A statement that only binds or changes names (so it can go when nobody reads them)."""
    if isinstance(stmt, _SIMPLE) or _method_call_on(stmt):
        return True
    if isinstance(stmt, _COMPOUND):
        return all(_is_candidate(s) for s in _inner(stmt))
    return isinstance(stmt, ast.Pass)


def _candidates(body: list[ast.stmt]) -> list[ast.stmt]:
    """The outermost candidates in ``body``, looking inside compound statements that aren't."""
    found: list[ast.stmt] = []
    for stmt in body:
        if _is_candidate(stmt):
            found.append(stmt)
        elif isinstance(stmt, _COMPOUND):
            found += _candidates(_inner(stmt))
    return found


def _loads(node: ast.AST, skip: set[int]) -> set[str]:
    """Names read by ``node``, leaving out the statements in ``skip`` (by id)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in skip:
            continue
        if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Load):
            out.add(current.id)
        stack.extend(ast.iter_child_nodes(current))
    return out


class _Drop(ast.NodeTransformer):
    """Remove the statements named (by id), leaving ``pass`` where a body would be empty."""

    def __init__(self, dropped: set[int]) -> None:
        self.dropped = dropped

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                kept = [s for s in body if id(s) not in self.dropped]
                if not kept and name == "body" and not isinstance(node, ast.Module):
                    kept = [ast.Pass()]
                setattr(node, name, kept)
        return super().generic_visit(node)


def graded_source(source: str) -> str:
    """A check cell as the learner's graded run executes it: no expected value in it.

    Each check call's expected value becomes ``...`` and its tolerances and hint are
    left out (the grader takes them from the reference). Then the assignments,
    definitions and loops whose names nothing left reads any more (the check's own
    reference computations) are dropped. What stays computes the learner's answers.
    A cell that does not parse is returned unchanged (it will raise when run).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    tree = _Withhold().visit(tree)
    candidates = _candidates(tree.body)
    pending = {id(c): c for c in candidates}
    needed = _loads(tree, set(pending))  # what the rest of the cell reads
    changed = True
    while changed:
        changed = False
        for key, stmt in list(pending.items()):
            if _stored(stmt) & needed:
                needed |= _loads(stmt, set())
                del pending[key]
                changed = True
    tree = _Drop(set(pending)).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree))


@dataclass(frozen=True)
class Reference:
    """What the reference solution's checks recorded in one run.

    Attributes:
        by_cell: check cell digest -> the records that cell's checks made, in order.
        problem: why the reference run gave no usable records ('' when it did).
    """

    by_cell: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    problem: str = ""


@dataclass
class ReferenceCache:
    """Reference runs, one per (reference file, parameters); safe across threads.

    A reference's records depend only on the file's bytes and the parameters, so one
    cache can serve a whole process (``SHARED``, the default of ``CheckOptions``).
    """

    runs: dict[str, Reference] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, path: Path, parameters: dict[str, Any], run: Callable[[], Reference]
    ) -> Reference:
        """The cached reference for ``path`` with ``parameters``, made by ``run()`` once."""
        text = json.dumps(parameters, sort_keys=True, default=repr)
        key = hashlib.sha256(path.read_bytes() + b"\0" + text.encode()).hexdigest()
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self.runs:
                return self.runs[key]
            made = run()
            if not made.problem:  # a failed run (a slow machine?) is tried again next time
                self.runs[key] = made
            return made


#: The process-wide cache of reference runs.
SHARED = ReferenceCache()
