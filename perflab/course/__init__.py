"""The course: one outline, read from the notebooks' own metadata, and the tools around it.

Each lesson notebook carries its entry in ``metadata.perflab.course`` (id, title, level,
order, minutes, prerequisites, questions, objectives, keypoints, exercise); each exercise
and solution names its lesson and its minutes. Everything else is computed from that:

* :mod:`perflab.course.outline` reads the entries into an ordered :class:`Outline`;
* :mod:`perflab.course.timing` states the rule that turns a notebook into minutes;
* :mod:`perflab.course.cells` renders the generated header, footer and welcome table;
* :mod:`perflab.course.generate` writes those cells (``python -m perflab.course.generate``);
* :mod:`perflab.course.progress` keeps the learner's last ``perflab check`` results.

docs/course.md describes the metadata, the timing rule and ``perflab course --json``.
"""

from __future__ import annotations

__all__: list[str] = []
