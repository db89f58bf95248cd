"""Plots for the scaling lessons: a scaler's timeline (load and workers on two panels).

Same conventions as ``perflab.viz``: one figure of the fixed size (7 x 4 inches at 80
dpi), matplotlib imported inside the function, and ``simulated=`` puts the model's
parameters under the plot.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from perflab.viz import DPI, FIGSIZE, simulated_label

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = ["scaling_timeline"]


def scaling_timeline(
    t: Sequence[float],
    load: Sequence[float],
    workers: Sequence[float],
    *,
    backlog: Sequence[float] | None = None,
    thresholds: Mapping[str, float] | None = None,
    title: str = "",
    load_label: str = "CPU %",
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw a load reading (top) and the worker count it produced (bottom) over time.

    Args:
        t: sample times (seconds).
        load: the reading the scaler acted on, at each time.
        workers: the worker count after each step (drawn as steps).
        backlog: optional queue length, drawn on the bottom panel's right axis.
        thresholds: label -> y of a dashed line on the load panel (the rule's 50 / 80).
        title: figure title.
        load_label: y label of the load panel.
        simulated: the model's parameters when the run is simulated.

    Returns:
        The figure (``<Figure size 560x320 with 2 Axes>``, 3 with a backlog).
    """
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=FIGSIZE, dpi=DPI, sharex=True)
    xs = list(t)
    top.plot(xs, list(load), color="tab:blue", linewidth=1, label=load_label)
    for label, y in (thresholds or {}).items():
        top.axhline(y, color="tab:red", linestyle="--", linewidth=1, label=label)
    top.set_ylabel(load_label)
    top.set_title(title)
    top.legend(loc="upper left", fontsize=7)
    top.grid(True, alpha=0.3)
    bottom.step(xs, list(workers), where="post", color="tab:green", label="workers")
    bottom.set_ylabel("workers")
    bottom.set_xlabel("time (s)")
    bottom.grid(True, alpha=0.3)
    if backlog is not None:
        right = bottom.twinx()
        right.plot(xs, list(backlog), color="tab:orange", linewidth=1, label="queue")
        right.set_ylabel("queue", color="tab:orange")
        right.tick_params(axis="y", labelcolor="tab:orange")
    if simulated is None:
        fig.tight_layout()
        return fig
    caption = textwrap.wrap(simulated_label(simulated), width=120)
    footer = 0.035 * len(caption) + 0.02
    fig.text(0.01, 0.01, "\n".join(caption), ha="left", va="bottom", fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0.0, footer, 1.0, 1.0))
    return fig
