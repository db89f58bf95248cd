"""The threshold explorer: a slider for the semantic cache's similarity threshold, with
precision, recall, hit rate and the false hits it would serve.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from perflab.cache.calibration import ThresholdCurve, ThresholdPoint, threshold_curve
from perflab.widgets._common import explorer, pct, plot_widget, png, still_png, table

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


__all__ = ["ThresholdView", "threshold_explorer", "threshold_view"]


@dataclass(frozen=True)
class ThresholdView:
    """The cache's behaviour on labelled pairs at one threshold.

    Attributes:
        point: hits, false hits, precision (with its Wilson interval), recall and hit
            rate at ``point.threshold`` (from ``perflab.cache.calibration``).
        curve: the same figures over a grid, for the plot.
        false_pairs: the pairs that would be false hits, most similar first, as
            ``(similarity, description)``; descriptions are ``"pair <i>"`` unless
            ``pairs`` were given.
    """

    point: ThresholdPoint
    curve: ThresholdCurve
    false_pairs: tuple[tuple[float, str], ...]

    def rows(self) -> list[tuple[str, str]]:
        """The figures as (label, formatted value) rows."""
        pt = self.point
        precision = (
            "n/a (no hits)"
            if pt.hits == 0
            else f"{pt.precision:.2f} [{pt.precision_low:.2f}, {pt.precision_high:.2f}]"
        )
        return [
            ("threshold", f"{pt.threshold:.2f}"),
            ("hits (of pairs)", f"{pt.hits} of {self.curve.n_pairs}"),
            ("false hits", str(pt.false_hits)),
            (f"precision [{self.curve.confidence:.0%} CI]", precision),
            ("recall", pct(pt.recall)),
            ("hit rate", pct(pt.hit_rate)),
        ]


def threshold_view(
    similarities: npt.ArrayLike,
    same_intent: npt.ArrayLike,
    threshold: float,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    grid: npt.ArrayLike | None = None,
) -> ThresholdView:
    """Precision, recall, hit rate and false hits of labelled pairs at ``threshold``.

    Args:
        similarities: cosine similarity of each pair.
        same_intent: whether each pair has the same intent.
        threshold: a pair with similarity >= threshold is a hit.
        pairs: the two texts of each pair, to name the false hits.
        grid: thresholds of the curve (default 0.00 to 1.00 by 0.01).

    Returns:
        A ``ThresholdView``.

    Raises:
        ValueError: mismatched lengths, no pairs, or non-finite similarities
            (from ``threshold_curve``); ``pairs`` of another length.
    """
    sims = np.asarray(similarities, dtype=np.float64).ravel()
    same = np.asarray(same_intent, dtype=bool).ravel()
    if pairs is not None and len(pairs) != sims.size:
        raise ValueError(f"got {len(pairs)} pairs but {sims.size} similarities")
    point = threshold_curve(sims, same, thresholds=[threshold]).points[0]
    grid = np.round(np.arange(0.0, 1.0001, 0.01), 2) if grid is None else grid
    curve = threshold_curve(sims, same, thresholds=grid)
    wrong = np.flatnonzero((sims >= threshold) & ~same)
    named = [
        (
            float(sims[i]),
            f"{pairs[i][0]!r} ~ {pairs[i][1]!r}" if pairs is not None else f"pair {i}",
        )
        for i in wrong.tolist()
    ]
    named.sort(key=lambda item: -item[0])
    return ThresholdView(point=point, curve=curve, false_pairs=tuple(named))


def _threshold_figure(view: ThresholdView, title: str) -> Figure:
    from perflab import viz

    pts = view.curve.points
    return viz.lines(
        [p.threshold for p in pts],
        {
            "precision": [p.precision for p in pts],
            "recall": [p.recall for p in pts],
            "hit rate": [p.hit_rate for p in pts],
        },
        vlines={f"threshold {view.point.threshold:.2f}": view.point.threshold},
        markers=False,
        title=title,
        xlabel="similarity threshold",
        ylabel="fraction",
    )


def threshold_explorer(
    similarities: npt.ArrayLike,
    same_intent: npt.ArrayLike,
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    threshold: float = 0.8,
    title: str = "Cache threshold on labelled pairs",
    max_listed: int = 10,
) -> Any:
    """A threshold slider over labelled pairs: precision, recall, hit rate, false hits.

    Args:
        similarities: cosine similarity of each labelled pair.
        same_intent: whether each pair has the same intent.
        pairs: the two texts of each pair, to list the false hits by name.
        threshold: the slider's starting value.
        title: the plot's title (say whether the similarities were measured).
        max_listed: at most this many false hits are listed.

    Returns:
        An ``ipywidgets.VBox``: the slider, a table, the false hits and the plot. Unrun,
        it displays as a still picture and a line saying to run the notebook.
    """
    import ipywidgets as widgets

    sims = np.asarray(similarities, dtype=np.float64).ravel()
    same = np.asarray(same_intent, dtype=bool).ravel()
    slider = widgets.FloatSlider(
        value=threshold, min=0.0, max=1.0, step=0.01, description="threshold", readout_format=".2f"
    )
    text = widgets.HTML()
    plot = plot_widget()

    def update(_change: object = None) -> None:
        view = threshold_view(sims, same, slider.value, pairs=pairs)
        listed = "".join(
            f"<li>{s:.3f} {html.escape(name)}</li>" for s, name in view.false_pairs[:max_listed]
        )
        more = len(view.false_pairs) - max_listed
        tail = f"<li>... and {more} more</li>" if more > 0 else ""
        false_hits = f"<ul>{listed}{tail}</ul>" if listed else "<p>no false hits</p>"
        text.value = table(view.rows()) + "<b>false hits (wrong answers served):</b>" + false_hits
        plot.value = png(_threshold_figure(view, title))

    def current() -> ThresholdView:
        return threshold_view(sims, same, slider.value, pairs=pairs)

    slider.observe(update, names="value")
    update()
    return explorer(
        [slider, text, plot],
        name="Threshold explorer (a threshold slider)",
        summary=lambda: "; ".join(f"{k} {v}" for k, v in current().rows()),
        still=lambda: still_png(_threshold_figure(current(), title)),
    )
