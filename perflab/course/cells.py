"""The text of the generated cells: lesson headers and footers, exercise headers and footers,
and the welcome notebook's table of lessons.

Every function here is pure: outline in, markdown out. Links are relative to the folder of
the notebook the cell goes into, so they work in JupyterLab from a checkout and from a
learner's copy alike (both keep notebooks/, exercises/ and solutions/ side by side).
"""

from __future__ import annotations

import posixpath

from perflab.course.outline import ExerciseEntry, Lesson, Outline

__all__ = [
    "GENERATED_KINDS",
    "exercise_check",
    "exercise_footer",
    "exercise_header",
    "format_minutes",
    "lesson_footer",
    "lesson_header",
    "level_totals",
    "link",
    "readme_times",
    "welcome_table",
]

#: The values of ``metadata.perflab.generated`` the generator owns.
GENERATED_KINDS = ("header", "footer", "outline", "check")

_LEVEL_NAMES = {
    "welcome": "Welcome",
    "beginner": "Beginner",
    "intermediate": "Intermediate",
    "advanced": "Advanced",
}


def format_minutes(minutes: int) -> str:
    """``45`` -> ``"45 min"``, ``95`` -> ``"1 h 35 min"``, ``120`` -> ``"2 h"``."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def link(text: str, target: str, source: str) -> str:
    """A markdown link to ``target`` from the notebook at ``source`` (both from the root)."""
    href = posixpath.relpath(target, posixpath.dirname(source) or ".")
    return f"[{text}]({href})"


def level_totals(outline: Outline, level: str) -> tuple[int, int]:
    """Minutes of teaching and of exercises summed over one level's lessons."""
    lessons = outline.by_level(level)
    return sum(les.teaching_min for les in lessons), sum(les.exercise_min for les in lessons)


def _time(lesson: Lesson) -> str:
    text = f"about {format_minutes(lesson.teaching_min)} of teaching"
    if lesson.exercise:
        text += f" + {format_minutes(lesson.exercise_min)} for the exercise"
    return text


def _bullets(items: tuple[str, ...]) -> list[str]:
    return [f"* {item}" for item in items]


def lesson_header(outline: Outline, lesson: Lesson) -> str:
    """The first cell of a lesson: title, level, time, prerequisites, questions, objectives."""
    level = _LEVEL_NAMES[lesson.level]
    if lesson.level != "welcome":
        same = outline.by_level(lesson.level)
        level += f" · lesson {same.index(lesson) + 1} of {len(same)}"
    before = [
        link(outline.lesson(pre).label, outline.lesson(pre).path, lesson.path)
        for pre in lesson.prerequisite_lessons
    ]
    lines = [
        f"# {lesson.label}" if lesson.level != "welcome" else f"# {lesson.title}",
        "",
        f"**Level:** {level} · **Time:** {_time(lesson)}",
        "",
        "**Before you start:** "
        + (", ".join(before) + ". " if before else "")
        + f"Python: {lesson.python}.",
        "",
        "**Questions this lesson answers**",
        "",
        *_bullets(lesson.questions),
        "",
        "**By the end you will be able to**",
        "",
        *_bullets(lesson.objectives),
    ]
    return "\n".join(lines)


def _check_command(exercise: str) -> list[str]:
    return ["```bash", f"perflab check {exercise}", "```"]


def lesson_footer(outline: Outline, lesson: Lesson) -> str:
    """The last cell of a lesson: keypoints, the exercise and how to check it, prev and next."""
    lines = ["---", "", "## Keypoints", "", *_bullets(lesson.keypoints), "", "## Next steps", ""]
    if lesson.exercise and lesson.solution:
        lines += [
            "**Your exercise:** "
            + link(lesson.exercise, lesson.exercise, lesson.path)
            + f" (about {format_minutes(lesson.exercise_min)}). Fill in its TODO cells, save it,"
            " then check it from a terminal opened in the course folder:",
            "",
            *_check_command(lesson.exercise),
            "",
            "The checker re-runs your notebook with other seeds, so an answer has to be computed,"
            " not pasted. Stuck after a real try? The worked solution is "
            + link(lesson.solution, lesson.solution, lesson.path)
            + ".",
            "",
        ]
    before, after = outline.previous(lesson.id), outline.next(lesson.id)
    nav = []
    if before is not None:
        nav.append("← Previous: " + link(before.label, before.path, lesson.path))
    if after is not None:
        nav.append("Next: " + link(after.label, after.path, lesson.path) + " →")
    else:
        nav.append("This is the last lesson: well done.")
    lines.append(" · ".join(nav))
    welcome = outline.lessons[0]
    if welcome.id != lesson.id:
        lines += [
            "",
            "All lessons and their times: " + link(welcome.label, welcome.path, lesson.path) + ".",
        ]
    return "\n".join(lines)


def _home(entry: ExerciseEntry, role: str) -> str:
    """Where the cell will live: exercises/ for the learner's wording, solutions/ otherwise."""
    return ("exercises/" if role == "exercise" else "solutions/") + posixpath.basename(entry.path)


def exercise_header(outline: Outline, entry: ExerciseEntry, role: str) -> str:
    """The cell after an exercise's title: its lesson, its time, and what to do.

    Args:
        role: ``"exercise"`` for the learner's notebook, ``"solution"`` for the worked one
            (the same entry renders both, so the exercise made from a solution gets its own
            wording).
    """
    lesson = outline.lesson(entry.lesson)
    exercise = "exercises/" + posixpath.basename(entry.path)
    here = _home(entry, role)
    back = link(lesson.label, lesson.path, here)
    if role == "solution":
        return "\n".join(
            [
                (
                    f"**Worked solution** of the exercise for lesson {back}"
                    f" ({lesson.level}, about {format_minutes(entry.minutes)})."
                ),
                "",
                "Try the exercise itself first: " + link(exercise, exercise, here) + ".",
            ]
        )
    return "\n".join(
        [
            (
                f"**Exercise for lesson {back}** ({lesson.level}, about"
                f" {format_minutes(entry.minutes)})."
            ),
            "",
            (
                "Fill in each cell marked TODO, run the notebook from top to bottom, save it"
                " (Ctrl-S), then run its last cell: it checks the saved notebook. From a"
                " terminal opened in the course folder, the same check is:"
            ),
            "",
            *_check_command(exercise),
        ]
    )


def exercise_footer(outline: Outline, entry: ExerciseEntry, role: str) -> str:
    """The last cell of an exercise: how to check it, back to its lesson, on to the next one."""
    lesson = outline.lesson(entry.lesson)
    name = posixpath.basename(entry.path)
    exercise, solution = "exercises/" + name, "solutions/" + name
    here = _home(entry, role)
    lines = ["---", ""]
    if role == "solution":
        lines += ["This was the worked solution of " + link(exercise, exercise, here) + "."]
    else:
        lines += [
            (
                "**Check your work:** save this notebook (Ctrl-S), then run the cell below. It"
                " grades the saved file, in a fresh kernel; from a terminal opened in the course"
                " folder the same check is:"
            ),
            "",
            *_check_command(exercise),
            "",
            "Every exercise should say `passed`. Stuck after a real try? The worked solution is "
            + link(solution, solution, here)
            + ".",
        ]
    nav = ["← Back to lesson " + link(lesson.label, lesson.path, here)]
    after = outline.next_with_exercise(lesson.id)
    if after is not None and after.exercise:
        target = (
            after.exercise
            if role == "exercise"
            else "solutions/" + posixpath.basename(after.exercise)
        )
        word = "exercise" if role == "exercise" else "solution"
        nav.append(f"Next {word}: " + link(target, target, here) + f" (lesson {after.id}) →")
    lines += ["", " · ".join(nav)]
    return "\n".join(lines)


def exercise_check(entry: ExerciseEntry) -> str:
    """The code cell after an exercise's footer: it checks the notebook it is in.

    The name is the notebook's own, found from the kernel's folder (the notebook's), so
    the same cell checks an exercise in exercises/ and a solution in solutions/.
    """
    name = posixpath.basename(entry.path)
    return f'from perflab.grading import check_my_work\n\ncheck_my_work("{name}")'


def welcome_table(outline: Outline) -> str:
    """The welcome notebook's table of every lesson, with per-level and total times."""
    here = outline.lessons[0].path
    lines = ["## The lessons", "", "Work through them in order; each builds on the ones before."]
    total_teaching = total_exercises = 0
    for level in ("beginner", "intermediate", "advanced"):
        lessons = outline.by_level(level)
        if not lessons:
            continue
        teaching, exercises = level_totals(outline, level)
        total_teaching, total_exercises = total_teaching + teaching, total_exercises + exercises
        lines += [
            "",
            (
                f"### {_LEVEL_NAMES[level]}: {len(lessons)} lessons, about"
                f" {format_minutes(teaching + exercises)}"
            ),
            "",
            f"{format_minutes(teaching)} of teaching and {format_minutes(exercises)} of exercises.",
            "",
            "| # | lesson | teaching | exercise |",
            "| --- | --- | --- | --- |",
        ]
        for les in lessons:
            exercise = (
                link(format_minutes(les.exercise_min), les.exercise, here)
                if les.exercise
                else "none"
            )
            lines.append(
                f"| {les.id} | {link(les.title, les.path, here)} |"
                f" {format_minutes(les.teaching_min)} | {exercise} |"
            )
    total_teaching += sum(les.teaching_min for les in outline.by_level("welcome"))
    lines += [
        "",
        (
            "**The whole course, this welcome included:** about"
            f" {format_minutes(total_teaching + total_exercises)}"
            f" ({format_minutes(total_teaching)} of teaching and {format_minutes(total_exercises)}"
            " of exercises). The times come from each lesson's outline entry; docs/course.md says"
            " how they are computed. `perflab course` lists the same outline beside your progress."
        ),
    ]
    return "\n".join(lines)


def readme_times(outline: Outline) -> str:
    """The README's table rows: each level's lessons and time, and the whole course."""
    lines = []
    total = sum(les.teaching_min + les.exercise_min for les in outline.by_level("welcome"))
    for level in ("beginner", "intermediate", "advanced"):
        lessons = outline.by_level(level)
        teaching, exercises = level_totals(outline, level)
        total += teaching + exercises
        names = " · ".join(f"{les.id} {les.title.split(':')[0]}" for les in lessons)
        lines.append(
            f"| {level} | {names} | about {format_minutes(teaching + exercises)}"
            f" ({format_minutes(teaching)} teaching, {format_minutes(exercises)} exercises) |"
        )
    count = sum(les.level != "welcome" for les in outline.lessons)
    lines.append(
        f"| whole course | 00 Welcome and {count} lessons | about {format_minutes(total)} |"
    )
    return "\n".join(lines)
