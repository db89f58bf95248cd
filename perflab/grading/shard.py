"""Grade a room in shards, on many machines, and merge the shards' results into one.

A room too big for one machine is split into N shards; shard K grades only its share,
and ``perflab check merge`` joins the shards' JSON into the same outputs an unsharded
run gives. Which shard a notebook belongs to depends only on its name inside the room
(``learner/notebook.ipynb``, relative to the folder given), never on the order of the
listing or on where the room is mounted: a learner who joins late moves nobody else,
and every pod of a Kubernetes Indexed Job agrees on the split without talking.

A shard's JSON is ``results.to_json`` plus a ``shard`` entry: which shard it is, how many
notebooks the whole room has, and each of its notebooks' place in the whole listing, so
the merge puts every row back where the unsharded run has it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perflab.grading.results import NotebookReport, from_json

__all__ = [
    "Shard",
    "ShardError",
    "check_items",
    "merge_json",
    "parse_shard",
    "room_key",
    "select",
    "shard_json",
]


class ShardError(ValueError):
    """A bad ``--shard`` value, or shard results that can't be merged."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as people count: ``1/3`` is the first).

    Attributes:
        index: which shard, 1 <= index <= count.
        count: how many shards the room is split into.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ShardError(
                f"shard {self.index}/{self.count}: K must be between 1 and N (1/{self.count} "
                f"is the first shard, {self.count}/{self.count} the last)"
            )

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` as a ``Shard``; raises ``ShardError`` saying what is allowed."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None:
        raise ShardError(f"--shard must look like K/N (for example 2/5), got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise ShardError(f"--shard {text}: N must be at least 1")
    return Shard(index, count)


def room_key(notebook: Path, root: Path) -> str:
    """A notebook's name inside the room: its path relative to the folder given, with ``/``.

    A notebook given directly (not inside a folder) is named by its file name.
    """
    try:
        rel = notebook.relative_to(root) if root != notebook else Path(notebook.name)
    except ValueError:
        rel = Path(notebook.name)
    return rel.as_posix()


def _bucket(key: str, count: int) -> int:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(
    paths: Iterable[str | Path],
    shard: Shard,
    collect: Callable[[Iterable[str | Path]], list[tuple[Path, str]]],
) -> tuple[list[tuple[Path, str]], list[int], int]:
    """This shard's share of the room.

    Args:
        paths: the command line's notebooks and folders.
        shard: which share.
        collect: the runner's listing (``runner.collect``), applied to each path.

    Returns:
        The (notebook, learner) pairs of this shard in listing order, their positions in
        the whole listing, and the size of the whole listing.
    """
    mine: list[tuple[Path, str]] = []
    positions: list[int] = []
    total = 0
    for raw in paths:
        root = Path(raw)
        for notebook, learner in collect([raw]):
            if _bucket(room_key(notebook, root), shard.count) == shard.index:
                mine.append((notebook, learner))
                positions.append(total)
            total += 1
    return mine, positions, total


def check_items(
    items: list[tuple[Path, str]],
    check: Callable[[Path, str], NotebookReport],
    workers: int = 1,
    on_done: Callable[[NotebookReport], None] | None = None,
    progress: bool = False,
    first: list[Callable[[], None]] | None = None,
) -> list[NotebookReport]:
    """Grade the given (notebook, learner) pairs, ``workers`` at a time, in input order.

    ``check`` grades one notebook and never raises (``runner.check_notebook`` with the
    run's options bound). ``progress`` shows a bar on stderr, as ``check_paths`` does.
    ``first`` are jobs started on the same workers before any notebook: the shard's
    reference runs (``runner.reference_jobs``), as ``check_paths`` does for a room.
    """
    bar: Any = None
    if progress:
        import sys

        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="perflab check", unit="notebook", file=sys.stderr)

    def one(item: tuple[Path, str]) -> NotebookReport:
        report = check(*item)
        if on_done is not None:
            on_done(report)
        if bar is not None:
            bar.update(1)
        return report

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for job in first or []:  # the executor takes jobs in order: these start first
                pool.submit(job)
            return list(pool.map(one, items))
    finally:
        if bar is not None:
            bar.close()


def shard_json(
    reports: list[NotebookReport], shard: Shard, positions: list[int], total: int
) -> str:
    """A shard's results: ``results.to_json`` plus where its notebooks sit in the room."""
    from perflab.grading.results import to_json

    data = json.loads(to_json(reports))
    data["shard"] = {
        "index": shard.index,
        "count": shard.count,
        "room_size": total,
        "positions": positions,
    }
    return json.dumps(data, indent=2)


def _load(text: str, name: str) -> tuple[dict[str, Any], list[NotebookReport]]:
    try:
        data = json.loads(text)
        info = data["shard"]
        shard = Shard(int(info["index"]), int(info["count"]))
        positions = [int(p) for p in info["positions"]]
        total = int(info["room_size"])
    except ShardError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise ShardError(
            f"{name} is not the JSON of a shard (write it with perflab check --shard K/N "
            f"--json): {type(exc).__name__}: {exc}"
        ) from exc
    reports = from_json(text)
    if len(positions) != len(reports):
        raise ShardError(f"{name}: {len(reports)} notebooks but {len(positions)} positions")
    return {"shard": shard, "positions": positions, "room_size": total}, reports


def merge_json(texts: dict[str, str]) -> list[NotebookReport]:
    """Join every shard's JSON into the room's reports, in the unsharded run's order.

    Args:
        texts: each shard file's name (for messages) and its text.

    Returns:
        The reports, as one unsharded run returns them.

    Raises:
        ShardError: a file is not a shard's JSON, the shards disagree on N or on the
            room's size, a shard is missing or given twice.
    """
    if not texts:
        raise ShardError("perflab check merge needs the JSON files of the shards")
    loaded = {name: _load(text, name) for name, text in texts.items()}
    counts = {info["shard"].count for info, _ in loaded.values()}
    sizes = {info["room_size"] for info, _ in loaded.values()}
    if len(counts) > 1 or len(sizes) > 1:
        raise ShardError(
            "the files come from different splits of the room (N: "
            f"{', '.join(map(str, sorted(counts)))}; room sizes: "
            f"{', '.join(map(str, sorted(sizes)))}): merge the shards of one run"
        )
    (count,), (size,) = counts, sizes
    seen: dict[int, str] = {}
    for name, (info, _) in loaded.items():
        index = info["shard"].index
        if index in seen:
            raise ShardError(f"shard {index}/{count} is given twice: {seen[index]} and {name}")
        seen[index] = name
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise ShardError(
            f"missing shard{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
            "merge needs every shard's JSON (a failed pod's shard can be re-run alone)"
        )
    placed: dict[int, NotebookReport] = {}
    for name, (info, reports) in loaded.items():
        for position, report in zip(info["positions"], reports):
            if position in placed or not 0 <= position < size:
                raise ShardError(f"{name}: notebook position {position} is taken or out of range")
            placed[position] = report
    if len(placed) != size:
        raise ShardError(f"the shards hold {len(placed)} notebooks, the room has {size}")
    return [placed[i] for i in range(size)]
