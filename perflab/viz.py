"""Small matplotlib helpers the lesson notebooks draw with.

Every helper makes one figure of a fixed size (8.5 x 4.75 inches at 80 dpi), so a figure's
text representation (``<Figure size 680x380 with 1 Axes>``) is the same on every run
and nbval can compare notebook outputs strictly. matplotlib is imported inside the
functions: ``import perflab.viz`` costs nothing until a plot is drawn.

So that a learner can read them:

- in a notebook, the first figure switches IPython's inline backend to "retina" PNGs:
  drawn at twice the pixels and shown at 680x380, sharp on a high-resolution screen;
- text is set in :data:`TEXT_PT` sizes (about 12-14 px on screen, the grey footer 11 px);
- a legend goes where it covers no data (lines, points, bars, their labels), and moves
  outside the axes, to the right, when no spot inside is free;
- several reference lines (``hlines``/``vlines``) each get their own colour and dash;
- bar labels get headroom, so they never touch the top border.

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
from weakref import WeakKeyDictionary

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "BACKGROUND",
    "DPI",
    "FIGSIZE",
    "HLINE_STYLES",
    "MARK_COLOURS",
    "REFERENCE",
    "TEXT_PT",
    "VLINE_STYLES",
    "bars",
    "covers_data",
    "histogram",
    "integer_ticks",
    "lines",
    "place_legend",
    "plain_log_ticks",
    "scaling_timeline",
    "simulated_label",
    "stacked_bars",
    "timeseries",
    "use_retina",
]

FIGSIZE: tuple[float, float] = (8.5, 4.75)
DPI = 80

#: Text sizes in points. At 80 dpi a point is 1.11 CSS px, so 12 pt shows as 13 px.
TEXT_PT: dict[str, float] = {
    "title": 13.0,
    "label": 12.0,
    "ticks": 11.0,
    "legend": 10.5,
    "annotation": 10.5,
    "footer": 10.0,
}

#: Colour and dash of the 1st, 2nd, ... reference line, so that no two look alike.
#: Their colours are outside matplotlib's default cycle, so a reference line never looks
#: like a data series.
HLINE_STYLES: tuple[tuple[str, Any], ...] = (
    ("black", "--"),
    ("dimgray", "-."),
    ("saddlebrown", (0, (1, 1.5))),
    ("darkslateblue", (0, (6, 2, 1, 2))),
)
VLINE_STYLES: tuple[tuple[str, Any], ...] = (
    ("dimgray", ":"),
    ("black", "-."),
    ("darkgoldenrod", "--"),
    ("darkslategray", (0, (6, 2, 1, 2))),
)

#: The gid of a patch that is background (an alert window's shading): a legend may cover it.
BACKGROUND = "perflab-background"

#: The gid of a reference line across the whole axes (a threshold, a default, a P99 mark).
#: A legend may cover part of one: the rest of the line still shows where it is.
REFERENCE = "perflab-reference"

#: A mark's colour by its name, so P50 is the same colour in every plot of a lesson.
MARK_COLOURS: dict[str, str] = {
    "p50": "tab:green",
    "median": "tab:green",
    "p95": "tab:orange",
    "p99": "tab:red",
    "mean": "tab:purple",
    "max": "tab:brown",
}


def simulated_label(params: Mapping[str, Any]) -> str:
    """Return the caption a simulated figure carries: ``"simulated: a=1, b=0.5"``.

    Floats are shown with up to 4 significant digits so the caption is stable; a whole
    number stored as a float is shown as a whole number (``tpm=200000``, not ``2e+05``).

    Args:
        params: the model's parameters, in the order they should be shown.

    Returns:
        The caption text.
    """
    parts = []
    for key, value in params.items():
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e12:
            shown = str(int(value))
        elif isinstance(value, float):
            shown = f"{value:.4g}"
        else:
            shown = str(value)
        parts.append(f"{key}={shown}")
    return "simulated: " + ", ".join(parts) if parts else "simulated"


def use_retina() -> bool:
    """Make IPython's inline backend draw PNGs at 2x, shown at the figure's own size.

    Does nothing outside IPython. Returns whether the setting was made.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebooks' extras
        return False
    if get_ipython() is None:
        return False
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")  # type: ignore[no-untyped-call]
    return True


def _figure(nrows: int = 1) -> tuple[Figure, Any]:
    import matplotlib.pyplot as plt

    use_retina()
    fig, ax = plt.subplots(nrows, 1, figsize=FIGSIZE, dpi=DPI, sharex=nrows > 1)
    return fig, ax


def _chars(size_pt: float) -> int:
    """About how many characters of ``size_pt`` text fit across the figure."""
    return int(FIGSIZE[0] * 72 / (0.52 * size_pt))


def _style(ax: Axes, *, title: str = "", xlabel: str = "", ylabel: str = "") -> None:
    if title:
        ax.set_title(
            "\n".join(textwrap.wrap(title, width=_chars(TEXT_PT["title"]))),
            fontsize=TEXT_PT["title"],
        )
    ax.set_xlabel(xlabel, fontsize=TEXT_PT["label"])
    ax.set_ylabel(ylabel, fontsize=TEXT_PT["label"])
    ax.tick_params(labelsize=TEXT_PT["ticks"])
    ax.grid(True, alpha=0.3)
    for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
        if scale == "log":
            plain_log_ticks(axis)


def plain_log_ticks(axis: Any) -> None:
    """Label a log axis 1-2-5 in plain numbers (``250``, ``1000``), not ``3x10^2``."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def integer_ticks(axis: Any) -> None:
    """Put ticks on whole numbers only (worker counts, pool sizes)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _layout(fig: Figure, simulated: Mapping[str, Any] | None) -> tuple[float, float, float, float]:
    """Write the simulated footer (if any); return the rect the axes may fill."""
    if simulated is None:
        return (0.0, 0.0, 1.0, 1.0)
    # A footer under the axes, wrapped to the figure's width: a simulated figure is never
    # mistaken for a measured one, and long parameter lists never squash the plot.
    caption = textwrap.wrap(simulated_label(simulated), width=_chars(TEXT_PT["footer"]))
    size = TEXT_PT["footer"]
    fig.text(0.01, 0.01, "\n".join(caption), ha="left", va="bottom", fontsize=size, color="dimgray")
    line = size * 1.25 / (FIGSIZE[1] * 72)  # one footer line, as a fraction of the height
    return (0.0, line * len(caption) + 0.02, 1.0, 1.0)


def covers_data(ax: Axes, box: Any) -> bool:
    """Whether the display-space ``box`` overlaps any of ``ax``'s data.

    Data is every line, every marker, every bar or histogram patch, and every text drawn
    inside the axes (bar labels). Reference lines (gid :data:`REFERENCE`) and shading
    (gid :data:`BACKGROUND`) do not count.
    """
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for line in ax.get_lines():
        if line.get_gid() == REFERENCE:
            continue
        path = line.get_transform().transform_path(line.get_path())
        drawn: Any = path.vertices
        vertices = [(float(v[0]), float(v[1])) for v in drawn]
        if vertices and path.intersects_bbox(box, filled=False):
            return True
        has_markers = line.get_marker() not in (None, "None", "", " ")
        if has_markers and any(box.contains(x, y) for x, y in vertices):
            return True
    for patch in ax.patches:
        if patch.get_gid() != BACKGROUND and patch.get_window_extent(renderer).overlaps(box):
            return True
    for collection in ax.collections:
        offsets: Any = collection.get_offsets()
        points: Any = collection.get_offset_transform().transform(offsets)
        if any(box.contains(float(p[0]), float(p[1])) for p in points):
            return True
    return any(text.get_window_extent(renderer).overlaps(box) for text in ax.texts)


#: The area each helper's figure lays its axes out in (above a simulated footer).
_RECTS: WeakKeyDictionary[Any, tuple[float, float, float, float]] = WeakKeyDictionary()


def place_legend(
    fig: Figure, ax: Axes, rect: tuple[float, float, float, float] | None = None
) -> Any:
    """Put ``ax``'s legend where it covers no data: inside if a corner is free, else outside.

    Call it again after drawing more on a helper's figure. ``rect`` is the area the
    axes may fill; by default, the one the helper that made ``fig`` used.

    Returns the legend (``None`` when nothing is labelled).
    """
    if rect is None:
        rect = _RECTS.get(fig, (0.0, 0.0, 1.0, 1.0))
    if not ax.get_legend_handles_labels()[0]:
        return None
    size = TEXT_PT["legend"]
    fig.canvas.draw()  # where the data lands is known only after a draw
    for loc in ("best", "upper right", "upper left", "lower right", "lower left"):
        legend = ax.legend(loc=loc, fontsize=size, framealpha=0.9)
        fig.canvas.draw()
        if not covers_data(ax, legend.get_window_extent()):
            return legend
        legend.remove()
    legend = ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=size
    )
    fig.tight_layout(rect=rect)
    return legend


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
    _style(ax, title=title, xlabel=xlabel, ylabel=ylabel)
    rect = _layout(fig, simulated)
    fig.tight_layout(rect=rect)
    _RECTS[fig] = rect
    if legend:
        place_legend(fig, ax)
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
    spare = ["tab:olive", "tab:cyan", "tab:pink", "black"]
    for label, x in (marks or {}).items():
        name = label.split()[0].lower() if label.split() else ""
        colour = MARK_COLOURS.get(name) or (spare.pop(0) if spare else "black")
        ax.axvline(x, color=colour, linestyle="--", label=f"{label} = {x:.3g}", gid=REFERENCE)
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
        ax.bar_label(
            drawn,
            labels=[annotate.format(h) for h in heights],
            fontsize=TEXT_PT["annotation"],
            padding=3,
        )
        # Headroom past the longest bar, so its label stays inside the frame.
        ax.margins(**({"x": 0.15} if horizontal else {"y": 0.15}))
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
    for i, (label, y) in enumerate((hlines or {}).items()):
        colour, dash = HLINE_STYLES[i % len(HLINE_STYLES)]
        ax.axhline(y, color=colour, linestyle=dash, linewidth=1.3, label=label, gid=REFERENCE)
    for i, (label, xv) in enumerate((vlines or {}).items()):
        colour, dash = VLINE_STYLES[i % len(VLINE_STYLES)]
        ax.axvline(xv, color=colour, linestyle=dash, linewidth=1.4, label=label, gid=REFERENCE)
    if logx:
        ax.set_xscale("log")
    elif xs and all(float(v).is_integer() for v in xs):
        integer_ticks(ax.xaxis)
    if logy:
        ax.set_yscale("log")
    return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, simulated=simulated)


def timeseries(
    t: Sequence[float],
    series: Mapping[str, Sequence[float]],
    *,
    thresholds: Mapping[str, float] | None = None,
    shade_above: Iterable[tuple[float, float]] | None = None,
    shade_label: str | None = None,
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
        shade_label: the legend's name for the shading (e.g. "alert firing").
        title: figure title.
        xlabel: x-axis label.
        ylabel: y-axis label.
        simulated: the model's parameters when the values are simulated.

    Returns:
        The figure.
    """
    fig, ax = _figure()
    xs = list(t)
    for label, ys in series.items():
        ax.plot(xs, list(ys), label=label)
    for i, (label, y) in enumerate((thresholds or {}).items()):
        colour, dash = HLINE_STYLES[i % len(HLINE_STYLES)]
        ax.axhline(y, color=colour, linestyle=dash, linewidth=1.3, label=label, gid=REFERENCE)
    for i, (start, end) in enumerate(shade_above or ()):
        named = shade_label if i == 0 and shade_label else None
        ax.axvspan(start, end, color="tab:red", alpha=0.12, gid=BACKGROUND, label=named)
    return _finish(fig, ax, title=title, xlabel=xlabel, ylabel=ylabel, simulated=simulated)


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
        The figure (``<Figure size 680x380 with 2 Axes>``, 3 with a backlog).
    """
    fig, (top, bottom) = _figure(nrows=2)
    xs = list(t)
    top.plot(xs, list(load), color="tab:blue", linewidth=1, label=load_label)
    for i, (label, y) in enumerate((thresholds or {}).items()):
        colour, dash = HLINE_STYLES[i % len(HLINE_STYLES)]
        top.axhline(y, color=colour, linestyle=dash, linewidth=1.3, label=label, gid=REFERENCE)
    _style(top, title=title, ylabel=load_label)
    bottom.step(xs, list(workers), where="post", color="tab:green", label="workers")
    _style(bottom, xlabel="time (s)", ylabel="workers")
    if backlog is not None:
        right = bottom.twinx()
        right.plot(xs, list(backlog), color="tab:orange", linewidth=1, label="queue")
        right.set_ylabel("queue", color="tab:orange", fontsize=TEXT_PT["label"])
        right.tick_params(axis="y", labelcolor="tab:orange", labelsize=TEXT_PT["ticks"])
    rect = _layout(fig, simulated)
    fig.tight_layout(rect=rect)
    _RECTS[fig] = rect
    place_legend(fig, top)
    return fig
