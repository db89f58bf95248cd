"""The Amdahl explorer: sliders for P and S, the speed-up curve and its ceiling 1/(1-P).

>>> from perflab.widgets.amdahl import amdahl_view
>>> view = amdahl_view(0.9, 10)
>>> round(view.speedup, 3), round(view.ceiling, 1)
(5.263, 10.0)
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from perflab.formulas import amdahl_speedup
from perflab.widgets._common import explorer, plot_widget, png, still_png

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


__all__ = ["AmdahlView", "amdahl_explorer", "amdahl_view"]


@dataclass(frozen=True)
class AmdahlView:
    """Amdahl's law at one ``(p, s)``, and the curve over ``s``.

    Attributes:
        p: fraction of the time the improvement touches.
        s: how many times faster that part gets.
        speedup: the whole's speed-up, ``1 / ((1 - p) + p / s)``.
        ceiling: ``1 / (1 - p)``, the speed-up as ``s`` grows without bound
            (``inf`` when ``p`` is 1).
        share_of_ceiling: ``speedup / ceiling`` (0 when the ceiling is infinite).
        s_values: the curve's x values (log-spaced, 1 to ``s_max``).
        speedups: the speed-up at each of ``s_values``.
    """

    p: float
    s: float
    speedup: float
    ceiling: float
    share_of_ceiling: float
    s_values: tuple[float, ...]
    speedups: tuple[float, ...]

    def describe(self) -> str:
        """One line in words, e.g. ``"P=0.90, S=10: 5.26x overall (ceiling 10.00x, 53%)"``."""
        if math.isinf(self.ceiling):
            ceiling = "no ceiling: P = 1"
        else:
            ceiling = f"ceiling {self.ceiling:.2f}x, {self.share_of_ceiling:.0%} of it"
        return f"P={self.p:.2f}, S={self.s:.3g}: {self.speedup:.2f}x overall ({ceiling})"


def amdahl_view(p: float, s: float, *, s_max: float = 1000.0, points: int = 61) -> AmdahlView:
    """Compute Amdahl's speed-up at ``(p, s)`` and its curve over ``s`` in ``[1, s_max]``.

    Args:
        p: fraction of the original time the improvement affects, in [0, 1].
        s: speed-up of that part, > 0.
        s_max: right end of the curve (> 1).
        points: points on the curve (>= 2).

    Returns:
        An ``AmdahlView``.

    Raises:
        ValueError: ``p`` outside [0, 1], ``s`` not > 0 (from ``amdahl_speedup``),
            ``s_max`` <= 1 or ``points`` < 2.
    """
    if not s_max > 1:
        raise ValueError(f"s_max ({s_max}) must be > 1")
    if points < 2:
        raise ValueError(f"points ({points}) must be >= 2")
    speedup = amdahl_speedup(p, s)
    ceiling = math.inf if p >= 1 else 1.0 / (1.0 - p)
    xs = tuple(float(x) for x in np.geomspace(1.0, s_max, points))
    return AmdahlView(
        p=float(p),
        s=float(s),
        speedup=speedup,
        ceiling=ceiling,
        share_of_ceiling=0.0 if math.isinf(ceiling) else speedup / ceiling,
        s_values=xs,
        speedups=tuple(amdahl_speedup(p, x) for x in xs),
    )


def _amdahl_figure(view: AmdahlView) -> Figure:
    from perflab import viz

    hlines = (
        {} if math.isinf(view.ceiling) else {f"ceiling 1/(1-P) = {view.ceiling:.2f}x": view.ceiling}
    )
    return viz.lines(
        view.s_values,
        {f"overall speed-up, P={view.p:.2f}": view.speedups},
        hlines=hlines,
        vlines={f"S={view.s:.3g}: {view.speedup:.2f}x": view.s},
        markers=False,
        logx=True,
        title="Amdahl's law: the whole gets faster, up to 1/(1-P)",
        xlabel="S (how many times faster the part gets)",
        ylabel="overall speed-up",
    )


def amdahl_explorer(p: float = 0.9, s: float = 2.0) -> Any:
    """Sliders for ``P`` and ``S`` with the speed-up curve and its ceiling ``1/(1-P)``.

    Args:
        p: starting ``P`` (e.g. a stage's measured share of the time).
        s: starting ``S``.

    Returns:
        An ``ipywidgets.VBox``: the two sliders, a line of text and the plot. Unrun, it
        displays as a still picture and a line saying to run the notebook.
    """
    import ipywidgets as widgets

    p_slider = widgets.FloatSlider(
        value=p, min=0.0, max=1.0, step=0.01, description="P", readout_format=".2f"
    )
    s_slider = widgets.FloatLogSlider(
        value=s, base=10, min=-0.3, max=3.0, step=0.01, description="S", readout_format=".3g"
    )
    text = widgets.HTML()
    plot = plot_widget()

    def update(_change: object = None) -> None:
        view = amdahl_view(p_slider.value, s_slider.value)
        text.value = f"<b>{html.escape(view.describe())}</b>"
        plot.value = png(_amdahl_figure(view))

    def current() -> AmdahlView:
        return amdahl_view(p_slider.value, s_slider.value)

    p_slider.observe(update, names="value")
    s_slider.observe(update, names="value")
    update()
    return explorer(
        [widgets.HBox([p_slider, s_slider]), text, plot],
        name="Amdahl explorer (sliders P and S)",
        summary=lambda: current().describe(),
        still=lambda: still_png(_amdahl_figure(current())),
    )
