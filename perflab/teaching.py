"""Workshop schedules computed from the course outline, for docs/teaching.md.

Every lesson notebook states its minutes (``metadata.perflab.course.minutes``: teaching
and exercises). A schedule is those minutes laid on a day, by one rule a teacher can
check by hand:

* a day has two halves, 09:00-12:30 and 13:30-17:00, with lunch between;
* each half has one 15-minute break, so it holds 195 minutes of work;
* the parts (each lesson's teaching, then its exercises) fill the halves in course
  order, whole: a part that does not fit in what is left of a half starts the next half;
* the break goes at the boundary between parts nearest the middle of the half;
* what does not fit in the workshop is listed as "after the workshop".

The six-week self-paced plan puts whole lessons into six weeks in course order, each
week closing once it holds a sixth of the course's total time.

Command line::

    python -m perflab.teaching           # rewrite the tables in docs/teaching.md
    python -m perflab.teaching --check   # exit 1 if they have drifted from the notebooks
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perflab.course.outline import Lesson, Outline, load_outline

__all__ = [
    "BREAK_MIN",
    "HALF_DAY_MIN",
    "SCHEDULES",
    "Part",
    "drifted",
    "pack_halves",
    "render_all",
    "six_week_plan",
    "update_document",
]

#: A half day, 09:00-12:30 or 13:30-17:00, in minutes (its break included).
HALF_DAY_MIN = 210
#: The break inside each half day.
BREAK_MIN = 15
_STARTS = (9 * 60, 13 * 60 + 30)  # minutes after midnight: morning, afternoon
_WEEKS = 6


@dataclass(frozen=True)
class Part:
    """One block of a schedule: a lesson's teaching or its exercises.

    Attributes:
        lesson: the lesson.
        kind: ``"teaching"`` or ``"exercises"``.
        minutes: how long it takes, from the lesson's metadata.
    """

    lesson: Lesson
    kind: str
    minutes: int


def parts(lessons: Sequence[Lesson]) -> list[Part]:
    """Each lesson's teaching then its exercises (a part of 0 minutes is left out)."""
    out = []
    for les in lessons:
        for kind, minutes in (("teaching", les.teaching_min), ("exercises", les.exercise_min)):
            if minutes > 0:
                out.append(Part(les, kind, minutes))
    return out


def pack_halves(items: Sequence[Part], halves: int) -> tuple[list[list[Part]], list[Part]]:
    """Fill ``halves`` half days with ``items`` in order; return them and what is left.

    Raises:
        ValueError: a part is longer than a half day's working time.
    """
    work = HALF_DAY_MIN - BREAK_MIN
    filled: list[list[Part]] = [[] for _ in range(halves)]
    index = 0
    for item in items:
        if item.minutes > work:
            raise ValueError(
                f"{item.lesson.id} {item.kind} takes {item.minutes} min, more than a half "
                f"day's {work} min of work: split the lesson"
            )
        while index < halves and sum(p.minutes for p in filled[index]) + item.minutes > work:
            index += 1
        if index == halves:
            break
        filled[index].append(item)
    placed = sum(len(h) for h in filled)
    return filled, list(items[placed:])


def short_label(lesson: Lesson) -> str:
    """``"01 · Measure first"``: the id and the title up to its colon."""
    return f"{lesson.id} · {lesson.title.split(':')[0]}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _half_rows(half: list[Part], start: int) -> list[tuple[str, str, str]]:
    """(time, block, minutes) rows of one half day, with its break placed."""
    if not half:
        return []
    total = sum(p.minutes for p in half)
    ends = [sum(p.minutes for p in half[: i + 1]) for i in range(len(half))]
    cut = min(range(len(half)), key=lambda i: abs(ends[i] - total / 2))
    rows, now = [], start
    for i, part in enumerate(half):
        what = "the welcome notebook" if part.lesson.level == "welcome" else part.kind
        rows.append((_clock(now), f"{short_label(part.lesson)}: {what}", str(part.minutes)))
        now += part.minutes
        if i == cut and i < len(half) - 1:
            rows.append((_clock(now), "break", str(BREAK_MIN)))
            now += BREAK_MIN
    if cut == len(half) - 1:  # one block only: the break follows it
        rows.append((_clock(now), "break", str(BREAK_MIN)))
        now += BREAK_MIN
    slack = start + HALF_DAY_MIN - now
    if slack > 0:
        rows.append((_clock(now), "questions, catch-up", str(slack)))
    return rows


def render_workshop(outline: Outline, halves: int, lessons: Sequence[Lesson]) -> str:
    """The markdown table of a workshop of ``halves`` half days over ``lessons``."""
    filled, left = pack_halves(parts(lessons), halves)
    lines = ["| day | time | block | min |", "| --- | --- | --- | ---: |"]
    for number, half in enumerate(filled):
        day = f"day {number // 2 + 1}" if halves > 1 else "session"
        for time, block, minutes in _half_rows(half, _STARTS[number % 2]):
            lines.append(f"| {day} | {time} | {block} | {minutes} |")
        if number % 2 == 0 and number + 1 < halves:
            lines.append(f"| {day} | 12:30 | lunch | 60 |")
    if left:
        whole = {p.lesson.id for p in left} - {p.lesson.id for h in filled for p in h}
        names = [
            p.lesson.id if p.lesson.id in whole else f"{p.lesson.id}'s {p.kind}"
            for p in left
            if p.lesson.id not in whole or p.kind == left_first_kind(left, p.lesson.id)
        ]
        lines += ["", f"After the workshop, self-paced: {', '.join(names)}."]
    return "\n".join(lines)


def left_first_kind(left: Sequence[Part], lesson_id: str) -> str:
    """The first part of ``lesson_id`` among ``left`` (a whole lesson is named once)."""
    return next(p.kind for p in left if p.lesson.id == lesson_id)


def six_week_plan(outline: Outline) -> list[list[Lesson]]:
    """Whole lessons in course order over six weeks, the longest week as short as can be.

    The classic linear-partition problem: of all ways to cut the course into six runs
    of consecutive lessons, the one whose busiest week has the fewest minutes (ties go
    to the earliest cut, so the plan is the same on every run).
    """
    lessons = outline.lessons
    minutes = [les.teaching_min + les.exercise_min for les in lessons]
    n, weeks = len(lessons), min(_WEEKS, len(lessons))
    prefix = [0]
    for m in minutes:
        prefix.append(prefix[-1] + m)
    inf = float("inf")
    # best[k][i]: the smallest busiest week for the first i lessons in k weeks.
    best = [[inf] * (n + 1) for _ in range(weeks + 1)]
    cut = [[0] * (n + 1) for _ in range(weeks + 1)]
    best[0][0] = 0
    for k in range(1, weeks + 1):
        for i in range(1, n + 1):
            for j in range(k - 1, i):
                value = max(best[k - 1][j], prefix[i] - prefix[j])
                if value < best[k][i]:
                    best[k][i], cut[k][i] = value, j
    plan: list[list[Lesson]] = []
    i = n
    for k in range(weeks, 0, -1):
        j = cut[k][i]
        plan.insert(0, list(lessons[j:i]))
        i = j
    return plan


def render_six_weeks(outline: Outline) -> str:
    """The markdown table of the six-week self-paced plan."""
    lines = [
        "| week | lessons | teaching | exercises | hours |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for number, week in enumerate(six_week_plan(outline), 1):
        teach = sum(les.teaching_min for les in week)
        ex = sum(les.exercise_min for les in week)
        names = "; ".join(short_label(les) for les in week)
        lines.append(f"| {number} | {names} | {teach} | {ex} | {(teach + ex) / 60:.1f} |")
    teach = sum(les.teaching_min for les in outline.lessons)
    ex = sum(les.exercise_min for les in outline.lessons)
    lines.append(f"| all | {len(outline.lessons)} notebooks | {teach} | {ex} | "
                 f"{(teach + ex) / 60:.1f} |")  # fmt: skip
    return "\n".join(lines)


#: The schedules in docs/teaching.md: marker name -> (half days, which lessons).
SCHEDULES = {
    "half-day": (1, ("welcome", "beginner")),
    "one-day": (2, ("welcome", "beginner", "intermediate", "advanced")),
    "two-days": (4, ("welcome", "beginner", "intermediate", "advanced")),
}


def render_explorer_answers() -> str:
    """Answers to the explorers' "Try:" questions, computed as the explorers compute them.

    Lesson 02's Amdahl explorer starts at the lesson's measured share of the generate
    stage (the simulated baseline, 500 articles one at a time, seed 2024); lesson 06's
    simulator explorer runs ``perflab.widgets.sim_view`` (baseline, 1200 articles,
    seed 6), which is what its Run button calls.
    """
    from perflab.formulas import amdahl_speedup
    from perflab.sim import Workload, simulate
    from perflab.widgets import sim_view

    frame = simulate("baseline", seed=2024, workload=Workload(requests=500, workers=1)).frame
    total = frame["latency_s"].sum()
    p_gen = float(frame["generate_s"].sum() / total)
    p_embed = float(frame["embed_s"].sum() / total)
    lines = [
        (
            f"**02, Amdahl explorer** (simulated baseline, 500 articles, seed 2024: generate "
            f"P = {p_gen:.3f}, embed P = {p_embed:.3f})."
        ),
        "",
    ]
    if p_gen > 0.8:
        s_needed = p_gen / (p_gen - 0.8)
        lines.append(
            f"- *How much faster must the LLM get for the whole to be 5x faster?* "
            f"S = P / (P - 0.8) = {s_needed:.1f}x; the ceiling is 1/(1-P) = "
            f"{1 / (1 - p_gen):.2f}x, so 5x is possible only because P > 0.8."
        )
    else:
        lines.append(
            f"- *How much faster must the LLM get for the whole to be 5x faster?* No S is "
            f"enough: the ceiling 1/(1-P) is {1 / (1 - p_gen):.2f}x."
        )
    lines += [
        (
            f"- *What does a 10x faster stage buy with the embed stage's P?* "
            f"{amdahl_speedup(p_embed, 10):.3f}x overall (ceiling {1 / (1 - p_embed):.3f}x)."
        ),
        "",
        *_threshold_answers(),
        "",
        "**06, simulator explorer** (simulated baseline, 1200 articles, seed 6, 20 clients):",
        "",
        (
            "| workers | semantic cache | articles delivered | throughput | 429s / failed "
            "| cost per article |"
        ),
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for workers in (3, 10, 16):
        for cache in (False, True):
            rows = dict(
                sim_view(
                    "baseline",
                    requests=1200,
                    seed=6,
                    parallel_workers=workers,
                    semantic_cache=cache,
                ).rows()
            )
            lines.append(
                f"| {workers} | {'on' if cache else 'off'} | {rows['articles delivered']} "
                f"| {rows['throughput']} | {rows['429s / failed articles']} "
                f"| {rows['cost per article']} |"
            )
    return "\n".join(lines)


def _threshold_answers() -> list[str]:
    """Lesson 05's explorer: where the first wrong pair gets in, and what keeping it out costs.

    The labelled pairs are lesson 05's own (the code cell that builds ``INTENTS``, run
    here as it is), scored with WordLlama as the explorer scores them.
    """
    import contextlib
    import io
    import json

    import numpy as np

    from perflab.cache.calibration import score_pairs
    from perflab.embedders.wordllama import WordLlamaEmbedder
    from perflab.paths import curriculum_root

    lesson = curriculum_root() / "notebooks" / "intermediate" / "05_cache_threshold.ipynb"
    cells = json.loads(lesson.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    start = next(i for i, text in enumerate(code) if "INTENTS = {" in text)
    space: dict[str, object] = {"np": np}
    # The cell that writes INTENTS, then the cells after it until the pairs exist.
    for text in code[start : start + 3]:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(text, str(lesson), "exec"), space)  # noqa: S102 - the lesson's pairs
        if "pairs" in space:
            break
    pairs = space.get("pairs")
    assert isinstance(pairs, list)
    sims, same = score_pairs(WordLlamaEmbedder(), pairs)
    wrong = int(np.argmax(np.where(same, -np.inf, sims)))
    first = float(sims[wrong])
    kept = int(np.sum(same & (sims > first)))
    a, b, _ = pairs[wrong]
    n_same = int(same.sum())
    verdict = (
        "no threshold keeps every wrong pair out and any paraphrase in: the lesson's point."
        if kept == 0
        else "the threshold buys that precision with the rest of the recall."
    )
    return [
        (
            f"**05, threshold explorer** (WordLlama, the lesson's {len(pairs)} labelled "
            f"pairs, {n_same} of them paraphrases):"
        ),
        "",
        (
            "- *Where does the first hard negative slip in?* Moving the slider down from "
            f"1.00, the first wrong pair served is {a!r} ~ {b!r}, at similarity {first:.3f}."
        ),
        (
            f"- *How much recall does keeping it out cost?* Above {first:.3f}, {kept} of "
            f"{n_same} paraphrases are still hits (recall {kept / n_same:.0%}): on this set "
            + verdict
        ),
    ]


def render_all(outline: Outline, *, answers: bool = True) -> dict[str, str]:
    """Every generated block of docs/teaching.md, by marker name.

    Args:
        outline: the course outline (the minutes).
        answers: also compute the explorers' answers (runs the simulator, a few seconds).
    """
    tables = {
        name: render_workshop(
            outline, halves, [les for les in outline.lessons if les.level in levels]
        )
        for name, (halves, levels) in SCHEDULES.items()
    }
    tables["six-weeks"] = render_six_weeks(outline)
    if answers:
        tables["explorer-answers"] = render_explorer_answers()
    return tables


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- schedule:{name} start -->\n)(.*?)(<!-- schedule:{name} end -->)", re.DOTALL
    )


def update_document(text: str, tables: dict[str, str]) -> str:
    """``text`` with each ``<!-- schedule:NAME start/end -->`` block replaced.

    Raises:
        ValueError: a block's markers are missing.
    """
    for name, table in tables.items():
        pattern = _block(name)
        if pattern.search(text) is None:
            raise ValueError(f"no <!-- schedule:{name} start --> ... end --> block")
        found = pattern.search(text)
        assert found is not None
        text = text[: found.start(2)] + table + "\n" + text[found.end(2) :]
    return text


def drifted(text: str, outline: Outline, *, answers: bool = True) -> list[str]:
    """The names of the generated blocks in ``text`` that differ from what they should be."""
    tables = render_all(outline, answers=answers)
    out = []
    for name, table in tables.items():
        found = _block(name).search(text)
        if found is None or found.group(2) != table + "\n":
            out.append(name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check``, compare) the schedule tables of docs/teaching.md."""
    parser = argparse.ArgumentParser(prog="python -m perflab.teaching", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the tables drifted")
    parser.add_argument("--doc", type=Path, default=None, help="default: docs/teaching.md")
    args = parser.parse_args(argv)
    outline = load_outline()
    doc = args.doc or outline.root / "docs" / "teaching.md"
    text = doc.read_text(encoding="utf-8")
    if args.check:
        stale = drifted(text, outline)
        if stale:
            print(f"{doc}: schedules out of date: {', '.join(stale)}; "
                  "run python -m perflab.teaching")  # fmt: skip
            return 1
        print(f"{doc}: schedules match the notebooks' minutes")
        return 0
    new = update_document(text, render_all(outline))
    if new != text:
        doc.write_text(new, encoding="utf-8")
        print(f"updated {doc}")
    else:
        print(f"{doc} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
