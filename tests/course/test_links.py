"""Every generated link points to the notebook the outline says, not just to some file.

The links are read back from the saved notebooks with a small parser of their own (not the
generator's code), resolved from the notebook's folder as JupyterLab does, and compared
with the outline: "Next" must be the next lesson, "Previous" the previous one, the exercise
the lesson's own exercise, and so on.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from perflab.course.outline import Outline, load_outline

from .conftest import ROOT

LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def _cell(root: Path, path: str, kind: str) -> str:
    nb = json.loads((root / path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("perflab", {}).get("generated") == kind:
            return "".join(cell["source"])
    return ""


def _after(text: str, label: str) -> list[str]:
    """The targets of the links that directly follow ``label`` in the text."""
    return [m[2] for m in re.finditer(re.escape(label) + r"\s*" + LINK.pattern, text)]


def _resolve(source: str, href: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), href.split("#")[0]))


def _expect(
    problems: list[str], root: Path, source: str, what: str, hrefs: list[str], want: str | None
) -> None:
    got = [_resolve(source, h) for h in hrefs]
    if want is None:
        if got:
            problems.append(f"{source}: {what} links to {got}, expected no link")
        return
    if got != [want]:
        problems.append(f"{source}: {what} links to {got}, expected [{want!r}]")
    elif not (root / want).is_file():
        problems.append(f"{source}: {what} links to missing {want}")


def link_problems(root: Path) -> list[str]:
    """Every generated link that does not point where the outline says."""
    outline: Outline = load_outline(root)
    problems: list[str] = []
    welcome = outline.lessons[0]
    for les in outline.lessons:
        header, footer = _cell(root, les.path, "header"), _cell(root, les.path, "footer")
        before, after = outline.previous(les.id), outline.next(les.id)
        _expect(
            problems,
            root,
            les.path,
            "Previous",
            _after(footer, "Previous:"),
            before and before.path,
        )
        _expect(problems, root, les.path, "Next", _after(footer, "Next:"), after and after.path)
        _expect(
            problems, root, les.path, "exercise", _after(footer, "Your exercise:**"), les.exercise
        )
        _expect(problems, root, les.path, "solution", _after(footer, "solution is"), les.solution)
        if les is not welcome:
            _expect(problems, root, les.path, "all lessons", _after(footer, "times:"), welcome.path)
        prereq = [_resolve(les.path, m[2]) for m in LINK.finditer(header)]
        want = [outline.lesson(p).path for p in les.prerequisite_lessons]
        if prereq != want:
            problems.append(f"{les.path}: prerequisites link to {prereq}, expected {want}")
    table = _cell(root, welcome.path, "outline")
    for les in outline.lessons[1:]:
        row = next((r for r in table.splitlines() if r.startswith(f"| {les.id} |")), "")
        targets = [_resolve(welcome.path, m[2]) for m in LINK.finditer(row)]
        if targets != [les.path, *([les.exercise] if les.exercise else [])]:
            problems.append(f"welcome table row {les.id} links to {targets}")
    for path, entry in outline.exercises.items():
        lesson = outline.lesson(entry.lesson)
        header, footer = _cell(root, path, "header"), _cell(root, path, "footer")
        _expect(problems, root, path, "header's lesson", _after(header, "lesson"), lesson.path)
        _expect(
            problems, root, path, "Back to lesson", _after(footer, "Back to lesson"), lesson.path
        )
        nxt = outline.next_with_exercise(lesson.id)
        word = "exercise" if entry.role == "exercise" else "solution"
        want = None
        if nxt is not None and nxt.exercise and nxt.solution:
            want = nxt.exercise if entry.role == "exercise" else nxt.solution
        _expect(problems, root, path, f"Next {word}", _after(footer, f"Next {word}:"), want)
    return problems


def _swap(path: Path, old: str, new: str) -> None:
    nb: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("perflab", {}).get("generated"):
            text = "".join(cell["source"])
            if old in text:
                cell["source"] = text.replace(old, new)
                break
    else:
        raise AssertionError(f"{old!r} not found in {path}")
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_every_generated_link_points_where_the_outline_says() -> None:
    """Prev, next, exercise, solution, prerequisites, the welcome table and exercise links."""
    assert link_problems(ROOT) == []


def test_a_next_link_to_the_wrong_lesson_is_caught(course_copy: Path) -> None:
    """02's "Next" pointing at 04 (an existing file) is reported: next must be 03."""
    _swap(
        course_copy / "notebooks/beginner/02_find_the_bottleneck.ipynb",
        "Next: [03 · Cache statistics: what a hit rate is worth, and what a threshold costs]"
        "(03_cache_statistics.ipynb)",
        "Next: [03 · Cache statistics](04_resource_usage.ipynb)",
    )
    problems = link_problems(course_copy)
    assert problems == [
        (
            "notebooks/beginner/02_find_the_bottleneck.ipynb: Next links to "
            "['notebooks/beginner/04_resource_usage.ipynb'], expected "
            "['notebooks/beginner/03_cache_statistics.ipynb']"
        )
    ]


def test_a_previous_link_to_the_wrong_lesson_is_caught(course_copy: Path) -> None:
    """10's "Previous" pointing at 08 instead of 09 is reported."""
    _swap(
        course_copy / "notebooks/advanced/10_resilience.ipynb",
        "(../intermediate/09_monitoring_and_alerting.ipynb) · Next",
        "(../intermediate/08_connection_pooling.ipynb) · Next",
    )
    assert any("10_resilience.ipynb: Previous" in p for p in link_problems(course_copy))


def test_an_exercise_link_to_another_lessons_exercise_is_caught(course_copy: Path) -> None:
    """01's exercise link pointing at exercise 02 is reported, though the file exists."""
    _swap(
        course_copy / "notebooks/beginner/01_measure_first.ipynb",
        "**Your exercise:** [exercises/01_percentiles.ipynb](../../exercises/01_percentiles.ipynb)",
        "**Your exercise:** [exercises/01_percentiles.ipynb](../../exercises/02_amdahl.ipynb)",
    )
    assert any("01_measure_first.ipynb: exercise" in p for p in link_problems(course_copy))


def test_an_exercise_footer_pointing_back_to_the_wrong_lesson_is_caught(course_copy: Path) -> None:
    """Exercise 11's "Back to lesson" pointing at lesson 12 is reported."""
    _swap(
        course_copy / "exercises/11_indexing.ipynb",
        "(../notebooks/advanced/11_database_and_indexing.ipynb) · Next",
        "(../notebooks/advanced/12_scaling_and_load_balancing.ipynb) · Next",
    )
    assert any(
        "exercises/11_indexing.ipynb: Back to lesson" in p for p in link_problems(course_copy)
    )


def test_a_link_to_a_missing_notebook_is_caught(course_copy: Path) -> None:
    """A footer link that resolves to the right name in the wrong folder is reported."""
    _swap(
        course_copy / "notebooks/beginner/04_resource_usage.ipynb",
        "(../intermediate/05_cache_threshold.ipynb)",
        "(05_cache_threshold.ipynb)",
    )
    assert any("04_resource_usage.ipynb: Next" in p for p in link_problems(course_copy))
