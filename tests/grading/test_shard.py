"""Sharded grading: a stable split of the room, and a merge identical to one unsharded run."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from perflab.cli.check import register
from perflab.grading import results
from perflab.grading.report_html import to_html
from perflab.grading.runner import collect
from perflab.grading.shard import Shard, ShardError, merge_json, parse_shard, select

from ._helpers import exercise, notebook, references, write


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perflab")
    register(parser.add_subparsers())
    args = parser.parse_args(["check", *argv])
    return int(args.func(args))


def _no_checks(path: Path) -> None:
    """A notebook with no check cells: graded without a kernel, so it costs nothing."""
    write(notebook(), path)


def _room(folder: Path, learners: int = 12) -> Path:
    for i in range(learners):
        _no_checks(folder / f"learner-{i:02d}" / "01.ipynb")
    return folder


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3", "must look like K/N"),
        ("a/b", "must look like K/N"),
        ("0/3", "between 1 and N"),
        ("4/3", "between 1 and N"),
        ("1/0", "at least 1"),
    ],
)
def test_bad_shard_is_refused_with_what_is_allowed(text: str, message: str) -> None:
    """A malformed or out-of-range --shard names the value and what is allowed."""
    with pytest.raises(ShardError, match=message):
        parse_shard(text)


def test_every_notebook_is_in_exactly_one_shard(tmp_path: Path) -> None:
    """The shards of a room partition it, and their positions cover the whole listing."""
    room = _room(tmp_path / "room", 40)
    seen: list[int] = []
    sizes = []
    for k in range(1, 5):
        items, positions, total = select([room], Shard(k, 4), collect)
        assert total == 40 and len(items) == len(positions)
        seen.extend(positions)
        sizes.append(len(items))
    assert sorted(seen) == list(range(40))
    assert all(sizes), sizes  # 40 notebooks over 4 shards: none empty (a hash, not luck)


def test_split_depends_on_names_not_on_order_or_mount_point(tmp_path: Path) -> None:
    """The same room mounted elsewhere, with more learners added, keeps each notebook's shard."""
    first = _room(tmp_path / "a" / "room", 20)
    second = _room(tmp_path / "b" / "mounted-here", 20)
    _no_checks(second / "aaa-late-joiner" / "01.ipynb")  # listed first, shifts every position
    for k in range(1, 4):
        mine_a = {
            p.relative_to(first).as_posix() for p, _ in select([first], Shard(k, 3), collect)[0]
        }
        mine_b = {
            p.relative_to(second).as_posix() for p, _ in select([second], Shard(k, 3), collect)[0]
        }
        assert mine_a == mine_b - {"aaa-late-joiner/01.ipynb"}


def test_merge_refuses_a_missing_or_doubled_shard(tmp_path: Path) -> None:
    """merge names the missing shard, a shard given twice, and shards of different splits."""
    room = _room(tmp_path / "room", 6)
    with pytest.raises(ShardError, match="missing shard 3/3"):
        merge_json({"a": _shard_text(room, 1, 3), "b": _shard_text(room, 2, 3)})
    with pytest.raises(ShardError, match="given twice"):
        merge_json({"a": _shard_text(room, 1, 2), "b": _shard_text(room, 1, 2)})
    with pytest.raises(ShardError, match="different splits"):
        merge_json({"a": _shard_text(room, 1, 2), "b": _shard_text(room, 2, 3)})
    with pytest.raises(ShardError, match="not the JSON of a shard"):
        merge_json({"plain.json": results.to_json([])})


def _shard_text(room: Path, k: int, n: int) -> str:
    from perflab.grading.runner import CheckOptions, check_notebook
    from perflab.grading.shard import check_items, shard_json

    items, positions, total = select([room], Shard(k, n), collect)
    options = CheckOptions(seeds=(5,))
    reports = check_items(items, lambda nb, who: check_notebook(nb, options, who))
    return shard_json(reports, Shard(k, n), positions, total)


def test_json_round_trip_keeps_every_field() -> None:
    """from_json(to_json(r)) renders the same JSON: no field is dropped on the way."""
    rep = results.NotebookReport(
        "room/ana/01.ipynb",
        "ana",
        (
            results.ExerciseResult("01.a", results.Status.FAILED, "x\n  hint: y", 4, 7),
            results.ExerciseResult(results.NOTEBOOK_ROW, results.Status.WARNING, "w"),
        ),
        (7, 8),
        1.23456,
        predictions=(results.Prediction("01.a", "p50", 0.5, 0.62),),
    )
    text = results.to_json([rep])
    assert results.to_json(results.from_json(text)) == text


def _no_time(reports: list[results.NotebookReport]) -> list[results.NotebookReport]:
    return [dataclasses.replace(rep, duration_s=0.0) for rep in reports]


@pytest.mark.notebooks
def test_merged_shards_equal_one_unsharded_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three shards graded apart and merged give the unsharded run's JSON, CSV, JUnit, table
    and HTML (wall times aside), and its exit code."""
    room = tmp_path / "room"
    write(notebook(*exercise("a"), exercises=["a"]), room / "ana" / "ex.ipynb")
    write(notebook(*exercise("a", "answer_a = 0"), exercises=["a"]), room / "ben.ipynb")
    write(notebook(*exercise("a"), exercises=["a"]), room / "fay" / "sub" / "ex.ipynb")
    (room / "cy.ipynb").write_text("{not json")
    for name in ("dee", "eve", "gus", "hal"):
        _no_checks(room / name / "ex.ipynb")
    (refs,) = references(tmp_path / "refs", "a")
    common = ["--seed", "5", "--timeout", "20", "--workers", "2", "--references", str(refs)]

    whole_code = _cli([str(room), *common, "--json"])
    whole = results.from_json(capsys.readouterr().out)
    shards = []
    for k in (1, 2, 3):
        _cli([str(room), *common, "--shard", f"{k}/3", "--json"])
        path = tmp_path / f"shard-{k}.json"
        path.write_text(capsys.readouterr().out, encoding="utf-8")
        shards.append(str(path))
    assert {len(json.loads(Path(s).read_text())["notebooks"]) for s in shards} != {0}

    merged_code = _cli(["merge", *shards, "--json"])
    merged = results.from_json(capsys.readouterr().out)
    assert merged_code == whole_code == 2  # cy's file can't be graded, in both
    verdicts = {r.learner: [x.status.value for x in r.exercises] for r in whole}
    assert (verdicts["ana"], verdicts["ben"], verdicts["fay"]) == (
        ["passed"],
        ["failed"],
        ["passed"],
    )
    assert [r.path for r in merged] == [r.path for r in whole]
    for render in (
        results.to_json,
        results.to_csv,
        results.to_junit,
        results.format_table,
        to_html,
    ):
        assert render(_no_time(merged)) == render(_no_time(whole)), render.__name__

    csv_file, html_file = tmp_path / "merged.csv", tmp_path / "merged.html"
    assert _cli(["merge", *shards, "--csv", str(csv_file), "--html", str(html_file)]) == 2
    table = capsys.readouterr().out
    assert csv_file.read_bytes().decode() == results.to_csv(whole)
    assert results.format_table(whole) in table
    assert "ben" in html_file.read_text(encoding="utf-8")


def test_merge_cli_says_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """merge with an unreadable file, or a file that is no shard, exits 2 with the reason."""
    assert _cli(["merge", str(tmp_path / "nope.json")]) == 2
    assert "can't read" in capsys.readouterr().err
    plain = tmp_path / "plain.json"
    plain.write_text(results.to_json([]), encoding="utf-8")
    assert _cli(["merge", str(plain)]) == 2
    assert "not the JSON of a shard" in capsys.readouterr().err


def test_empty_shard_exits_0_with_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A shard that holds no notebook still writes its JSON (the merge needs it) and exits 0."""
    room = _room(tmp_path / "room", 1)
    codes = []
    for k in (1, 2):
        codes.append(_cli([str(room), "--shard", f"{k}/2", "--seed", "3", "--json"]))
        data = json.loads(capsys.readouterr().out)
        if not data["notebooks"]:
            assert codes[-1] == 0
            assert data["shard"]["room_size"] == 1
    assert min(codes) == 0


def test_shard_without_seeds_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--shard without --seed exits 2: shards drawing their own seeds could not be merged."""
    room = _room(tmp_path / "room", 2)
    assert _cli([str(room), "--shard", "1/2", "--json"]) == 2
    assert "--shard needs --seed" in capsys.readouterr().err
