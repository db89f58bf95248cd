"""Small matplotlib helpers the lesson notebooks draw with.

Every helper makes one figure of a fixed size (7 x 4 inches at 80 dpi), so a figure's
text representation (``<Figure size 560x320 with 1 Axes>``) is the same on every run
and nbval can compare notebook outputs strictly. matplotlib is imported inside the
functions: ``import perflab.viz`` costs nothing until a plot is drawn.

A figure that shows simulated numbers says so: pass ``simulated=`` a mapping of the
model's parameters and the helper writes "simulated" and the parameters on the plot.
A figure of a real measurement says nothing extra (it is the default).

Helpers return the ``Figure``; in a notebook assign it (``fig = viz.histogram(...)``)
and the inline backend shows it once at the end of the cell.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "FIGSIZE",
    "bars",
    "histogram",
    "lines",
    "simulated_label",
    "stacked_bars",
    "timeseries",
]

FIGSIZE: tuple[float, float] = (7.0, 4.0)
DPI = 80


def simulated_label(params: Mapping[str, Any]) -> str:
    """Return the caption a simulated figure carries: ``"simulated: a=1, b=0.5"``.

    Floats are shown with up to 4 significant digits so the caption is stable.

    Args:
        params: the model's parameters, in the order they should be shown.

    Returns:
        The caption text.
    """
    parts = []
    for key, value in params.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={shown}")
    return "simulated: " + ", ".join(parts) if parts else "simulated"


def _figure() -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    return fig, ax


def _finish(
    fig: Figure,
    ax: Axes,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    simulated: Mapping[str, Any] | None,
    legend: bool = True,
) -> Figure:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    ax.grid(True, alpha=0.3)
    if simulated is None:
        fig.tight_layout()
        return fig
    # A footer under the axes, wrapped to the figure's width: a simulated figure is never
    # mistaken for a measured one, and long parameter lists never squash the plot.
    caption = textwrap.wrap(simulated_label(simulated), width=120)
    footer = 0.035 * len(caption) + 0.02
    fig.text(0.01, 0.01, "\n".join(caption), ha="left", va="bottom", fontsize=7, color="dimgray")
    fig.tight_layout(rect=(0.0, footer, 1.0, 1.0))
    return fig


def histogram(
    samples: Sequence[float],
    *,
    marks: Mapping[str, float] | None = None,
    bins: int = 40,
    title: str = "",
    xlabel: str = "latency (ms)",
    log: bool = False,
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw a histogram of ``samples`` with vertical lines at ``marks`` (e.g. P50/P95/P99).

    Args:
        samples: the values (already in the unit of ``xlabel``).
        marks: label -> x position of a vertical line.
        bins: number of bins.
        title: figure title.
        xlabel: x-axis label.
        log: use a logarithmic count axis (long tails).
        simulated: the model's parameters when the samples are simulated.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    ax.hist(list(samples), bins=bins, color="tab:blue", alpha=0.7, log=log)
    colours = ["tab:green", "tab:orange", "tab:red", "tab:purple", "tab:brown"]
    for i, (label, x) in enumerate((marks or {}).items()):
        ax.axvline(x, color=colours[i % len(colours)], linestyle="--", label=f"{label} = {x:.3g}")
    return _finish(fig, ax, title=title, xlabel=xlabel, ylabel="count", simulated=simulated)


def bars(
    values: Mapping[str, float],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    horizontal: bool = False,
    annotate: str = "{:.3g}",
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw one bar per key of ``values``, each annotated with its value.

    Args:
        values: label -> height.
        title: figure title.
        xlabel: x-axis label.
        ylabel: y-axis label.
        horizontal: horizontal bars (long labels such as pipeline stages).
        annotate: format string for the value written on each bar ("" for none).
        simulated: the model's parameters when the values are simulated.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    labels = list(values)
    heights = [float(values[k]) for k in labels]
    if horizontal:
        drawn = ax.barh(labels, heights, color="tab:blue", alpha=0.8)
        ax.invert_yaxis()
    else:
        drawn = ax.bar(labels, heights, color="tab:blue", alpha=0.8)
    if annotate:
        ax.bar_label(drawn, labels=[annotate.format(h) for h in heights], fontsize=8, padding=2)
    return _finish(
        fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, simulated=simulated, legend=False
    )


def stacked_bars(
    groups: Mapping[str, Mapping[str, float]],
    *,
    title: str = "",
    ylabel: str = "",
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw one stacked bar per group; each segment is one component (e.g. a pipeline stage).

    Args:
        groups: bar label -> (component -> value). Components are stacked in the
            order of the first group.
        title: figure title.
        ylabel: y-axis label.
        simulated: the model's parameters when the values are simulated.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    names = list(groups)
    components: list[str] = []
    for parts in groups.values():
        components.extend(c for c in parts if c not in components)
    bottoms = [0.0] * len(names)
    for comp in components:
        heights = [float(groups[n].get(comp, 0.0)) for n in names]
        ax.bar(names, heights, bottom=bottoms, label=comp, alpha=0.85)
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    return _finish(fig, ax, title=title, xlabel="", ylabel=ylabel, simulated=simulated)


def lines(
    x: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    hlines: Mapping[str, float] | None = None,
    vlines: Mapping[str, float] | None = None,
    markers: bool = True,
    logx: bool = False,
    logy: bool = False,
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw one line per series against a shared ``x``, with optional reference lines.

    Args:
        x: the x values.
        series: label -> y values (same length as ``x``).
        title: figure title.
        xlabel: x-axis label.
        ylabel: y-axis label.
        hlines: label -> y of a dashed horizontal line (a threshold, an SLO).
        vlines: label -> x of a dotted vertical line (a default value).
        markers: draw a marker at each point.
        logx: logarithmic x axis.
        logy: logarithmic y axis.
        simulated: the model's parameters when the values are simulated.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    xs = list(x)
    for label, ys in series.items():
        ax.plot(xs, list(ys), marker="o" if markers else None, markersize=3, label=label)
    for label, y in (hlines or {}).items():
        ax.axhline(y, color="tab:red", linestyle="--", linewidth=1, label=label)
    for label, xv in (vlines or {}).items():
        ax.axvline(xv, color="gray", linestyle=":", linewidth=1.2, label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, simulated=simulated)


def timeseries(
    t: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    thresholds: Mapping[str, float] | None = None,
    shade_above: Iterable[tuple[float, float]] | None = None,
    title: str = "",
    xlabel: str = "time (s)",
    ylabel: str = "",
    simulated: Mapping[str, Any] | None = None,
) -> Figure:
    """Draw metrics over time, alert thresholds as dashed lines, alert windows shaded.

    Args:
        t: sample times.
        series: label -> values sampled at ``t``.
        thresholds: label -> y of an alert threshold.
        shade_above: (start, end) time windows to shade (when an alert was firing).
        title: figure title.
        xlabel: x-axis label.
        ylabel: y-axis label.
        simulated: the model's parameters when the values are simulated.

    Returns:
        The figure.
    """
    fig = lines(
        t,
        series,
        title=title,
        xlabel=xlabel,
        ylabel=ylabel,
        hlines=thresholds,
        markers=False,
        simulated=simulated,
    )
    ax = fig.axes[0]
    for start, end in shade_above or ():
        ax.axvspan(start, end, color="tab:red", alpha=0.12)
    return fig
