"""The room report: one self-contained HTML page for the teacher after ``perflab check``.

``perflab check room/ --html report.html`` writes it (so does ``perflab check merge``).
It has four parts:

* a learner x exercise grid of verdicts (hover a cell for its feedback);
* the checks most learners failed, with their hints: what to go over again with the room;
* the time each notebook took, slowest first;
* the room's predictions against the values it measured (``check_prediction``), the
  biggest surprise first.

Everything in it comes from the results, and every string from a learner's notebook
(names, messages, exercise ids) is escaped: the page has no script, loads nothing and
shows a learner's ``<script>`` as text.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from html import escape

from perflab.grading.results import (
    NOTEBOOK_ROW,
    ExerciseResult,
    NotebookReport,
    Status,
    summary_line,
)

__all__ = ["failed_checks", "surprises", "to_html"]

_FAILED_LINE = re.compile(r"\u2718 \[(?P<exercise>[^\]]*)\] (?P<what>.*?): ")
_HINT_LINE = re.compile(r"^\s*hint: (?P<hint>.*)$")

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.status { text-align: center; font-size: 0.85em; }
.passed { background: #d9f2d9; } .warning { background: #fff4cc; }
.failed, .missing, .tampered { background: #f8d0d0; }
.error, .timeout, .ungraded { background: #f2b3b3; }
.not-run { background: #e6e6e6; } .absent { background: #fff; color: #999; }
.bar { background: #7aa6d8; height: 0.8em; display: inline-block; }
.note { color: #555; font-size: 0.9em; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _css_class(status: Status) -> str:
    return status.value.replace(" ", "-")


def _learners(reports: list[NotebookReport]) -> list[str]:
    return list(dict.fromkeys(rep.learner for rep in reports))


def _exercises(reports: list[NotebookReport]) -> list[str]:
    return list(dict.fromkeys(r.exercise for rep in reports for r in rep.exercises))


_SEVERITY = [
    Status.PASSED,
    Status.WARNING,
    Status.NOT_RUN,
    Status.FAILED,
    Status.MISSING,
    Status.TAMPERED,
    Status.TIMEOUT,
    Status.ERROR,
    Status.UNGRADED,
]


def _grid(reports: list[NotebookReport]) -> str:
    exercises = _exercises(reports)
    cells: dict[tuple[str, str], ExerciseResult] = {}
    problems: dict[str, list[str]] = defaultdict(list)
    for rep in reports:
        for r in rep.results:
            if r.exercise == NOTEBOOK_ROW:
                if not r.status.is_ok:
                    problems[rep.learner].append(f"{rep.path}: {r.status.value}: {r.feedback}")
                continue
            old = cells.get((rep.learner, r.exercise))  # the worst verdict, if given twice
            if old is None or _SEVERITY.index(r.status) > _SEVERITY.index(old.status):
                cells[(rep.learner, r.exercise)] = r
    head = "".join(f"<th>{_e(ex)}</th>" for ex in exercises)
    rows = []
    for learner in _learners(reports):
        tds = []
        for ex in exercises:
            verdict = cells.get((learner, ex))
            if verdict is None:
                tds.append('<td class="status absent">-</td>')
            else:
                tds.append(
                    f'<td class="status {_css_class(verdict.status)}" '
                    f'title="{_e(verdict.feedback)}">{_e(verdict.status.value)}</td>'
                )
        passed = sum(
            cells[(learner, ex)].status is Status.PASSED
            for ex in exercises
            if (learner, ex) in cells
        )
        given = sum((learner, ex) in cells for ex in exercises)
        notes = "<br>".join(_e(p) for p in problems.get(learner, []))
        rows.append(
            f"<tr><th>{_e(learner)}</th>{''.join(tds)}<td>{passed}/{given}</td>"
            f'<td class="note">{notes}</td></tr>'
        )
    return (
        f"<table><tr><th>learner</th>{head}<th>passed</th><th>notebook problems</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def failed_checks(reports: list[NotebookReport]) -> list[tuple[str, str, str, int]]:
    """The checks learners failed, most learners first.

    Returns:
        (exercise, what was checked, hint, number of learners who failed it) for every
        failed check in the feedback, sorted by that number (then exercise, check).
    """
    learners: dict[tuple[str, str], set[str]] = defaultdict(set)
    hints: dict[tuple[str, str], str] = {}
    for rep in reports:
        for r in rep.exercises:
            if r.status is not Status.FAILED:
                continue
            key: tuple[str, str] | None = None
            for line in r.feedback.splitlines():
                if (m := _FAILED_LINE.search(line)) is not None:
                    key = (m["exercise"], m["what"])
                    learners[key].add(rep.learner)
                elif key is not None and (h := _HINT_LINE.match(line)) is not None:
                    hints.setdefault(key, h["hint"])
            if key is None:  # not a check's message: "not done yet", and the like
                learners[(r.exercise, _first_words(r.feedback))].add(rep.learner)
    ranked = sorted(learners.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(ex, what, hints.get((ex, what), ""), len(who)) for (ex, what), who in ranked]


def _first_words(feedback: str) -> str:
    text = re.sub(r"^with seed \d+: ", "", feedback.splitlines()[0] if feedback else "")
    text = re.sub(r"cell \d+", "cell N", text)
    return text.split(";")[0][:120]


def _failed_section(reports: list[NotebookReport]) -> str:
    total = len(_learners(reports))
    ranked = failed_checks(reports)[:15]
    if not ranked:
        return "<p>No check failed.</p>"
    rows = "".join(
        f"<tr><td>{_e(ex)}</td><td>{_e(what)}</td><td>{count} of {total}</td>"
        f"<td>{_e(hint)}</td></tr>"
        for ex, what, hint, count in ranked
    )
    return (
        "<table><tr><th>exercise</th><th>check</th><th>learners who failed it</th>"
        f"<th>hint</th></tr>{rows}</table>"
    )


def _times_section(reports: list[NotebookReport]) -> str:
    if not reports:
        return "<p>No notebook was checked.</p>"
    slowest = max(rep.duration_s for rep in reports) or 1.0
    ordered = sorted(reports, key=lambda rep: (-rep.duration_s, rep.path))
    rows = "".join(
        f"<tr><td>{_e(rep.learner)}</td><td>{_e(rep.path)}</td>"
        f"<td>{rep.duration_s:.1f} s</td><td>{len(rep.seeds)}</td>"
        f'<td><span class="bar" style="width:{200 * rep.duration_s / slowest:.0f}px">'
        "</span></td></tr>"
        for rep in ordered
    )
    durations = [rep.duration_s for rep in reports]
    head = (
        f"<p>{len(reports)} notebooks; median {statistics.median(durations):.1f} s, "
        f"slowest {slowest:.1f} s, {sum(durations) / 60:.1f} min in all (summed over "
        "notebooks checked side by side, so more than the wall time).</p>"
    )
    return (
        head + "<table><tr><th>learner</th><th>notebook</th><th>time</th><th>runs</th>"
        f"<th></th></tr>{rows}</table>"
    )


def surprises(reports: list[NotebookReport]) -> list[dict[str, object]]:
    """The room's predictions beside its measurements, per predicted quantity.

    Returns:
        One entry per (exercise, quantity): how many learners predicted it, the median
        prediction and measurement, and the median relative gap |measured - predicted|
        / |measured|; the biggest gap first.
    """
    groups: dict[tuple[str, str], list[tuple[float | None, float | None]]] = defaultdict(list)
    for rep in reports:
        for p in rep.predictions:
            groups[(p.exercise, p.what)].append((p.predicted, p.measured))
    out: list[dict[str, object]] = []
    for (ex, what), pairs in groups.items():
        both = [(a, b) for a, b in pairs if a is not None and b is not None]
        gaps = [abs(b - a) / abs(b) for a, b in both if b != 0]
        out.append(
            {
                "exercise": ex,
                "what": what,
                "learners": len(pairs),
                "predicted": len(both),
                "median_predicted": statistics.median(a for a, _ in both) if both else None,
                "median_measured": statistics.median(b for _, b in both) if both else None,
                "median_gap": statistics.median(gaps) if gaps else None,
            }
        )
    out.sort(key=lambda d: (-(d["median_gap"] or -1.0), d["exercise"], d["what"]))  # type: ignore[operator]
    return out


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.4g}"


def _predictions_section(reports: list[NotebookReport]) -> str:
    rows = surprises(reports)
    if not rows:
        return (
            '<p class="note">These results carry no predictions: none of the graded '
            "notebooks recorded a guess with <code>check_prediction</code> (a guess left "
            "as <code>None</code> is not one), so there is nothing to compare here.</p>"
        )
    body = "".join(
        f"<tr><td>{_e(d['exercise'])}</td><td>{_e(d['what'])}</td>"
        f"<td>{d['predicted']} of {d['learners']}</td><td>{_fmt(d['median_predicted'])}</td>"
        f"<td>{_fmt(d['median_measured'])}</td>"
        f"<td>{'-' if d['median_gap'] is None else format(d['median_gap'], '.0%')}</td></tr>"
        for d in rows
    )
    return (
        "<p>Biggest surprise first: the median gap between a learner's guess and their own "
        "measurement, relative to the measurement.</p>"
        "<table><tr><th>exercise</th><th>quantity</th><th>learners who predicted</th>"
        "<th>median guess</th><th>median measured</th><th>median gap</th></tr>"
        f"{body}</table>"
    )


def to_html(reports: list[NotebookReport]) -> str:
    """The whole report as one HTML page (inline CSS, no script, no external files)."""
    seeds = sorted({s for rep in reports for s in rep.seeds})
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>perflab check: room report</title>",
            f"<style>{_CSS}</style></head><body>",
            "<h1>perflab check: room report</h1>",
            f"<p>{_e(summary_line(reports))}</p>",
            (
                f'<p class="note">{len(_learners(reports))} learners; seeds '
                f"{_e(', '.join(map(str, seeds)) or '-')}. Hover a verdict to read its "
                "feedback.</p>"
            ),
            '<h2 id="grid">Learners by exercise</h2>',
            _grid(reports),
            '<h2 id="failed">The checks most learners failed</h2>',
            _failed_section(reports),
            '<h2 id="times">Time per notebook</h2>',
            _times_section(reports),
            '<h2 id="predictions">Predictions against measurements</h2>',
            _predictions_section(reports),
            "</body></html>",
            "",
        ]
    )
