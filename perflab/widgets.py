"""Interactive explorers for the lessons: move a slider, watch the numbers move.

Each explorer is two layers. A plain function does the arithmetic and returns a frozen
dataclass (``amdahl_view``, ``threshold_view``, ``sim_view``): no widgets, no plots,
testable from pytest. The explorer (``amdahl_explorer``, ``threshold_explorer``,
``sim_explorer``) only wires ipywidgets controls to that function, writes the result
into an ``HTML`` widget and draws it with ``perflab.viz`` into an ``Image`` widget.

ipywidgets and matplotlib are imported inside the functions, so ``import
perflab.widgets`` costs nothing; the explorers need a Jupyter front end to be
played with, but they build and recompute headless too (set ``slider.value`` or call
``button.click()`` and read the ``HTML`` widget's ``value``).

Where no kernel runs the explorer (a saved notebook on GitHub, the course website, a
notebook opened but not yet run), its widgets cannot be drawn. So an explorer, when
displayed, also carries a plain-text line saying to run the notebook and a still
picture of its plot, marked as a still (``_repr_mimebundle_`` of the returned box).

Simulated results say so: ``sim_explorer`` labels its table and histogram "simulated"
with every parameter of the run, as ``perflab.viz`` does for figures.

>>> from perflab.widgets import amdahl_view
>>> view = amdahl_view(0.9, 10)
>>> round(view.speedup, 3), round(view.ceiling, 1)
(5.263, 10.0)
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from perflab.cache.calibration import ThresholdCurve, ThresholdPoint, threshold_curve
from perflab.errors import PerflabError
from perflab.formulas import amdahl_speedup

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from perflab.sim import SimSummary

__all__ = [
    "AmdahlView",
    "SimView",
    "ThresholdView",
    "amdahl_explorer",
    "amdahl_view",
    "sim_explorer",
    "sim_view",
    "threshold_explorer",
    "threshold_view",
]

# ------------------------------------------------------------------ shared plumbing

_PLOT_WIDTH = "700px"


def _png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes and close it (so the inline backend never shows it twice)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # 1.5x the figure's dpi, shown at _PLOT_WIDTH: sharp on a laptop screen, still small.
    fig.savefig(buffer, format="png", dpi=1.5 * fig.dpi)
    plt.close(fig)
    return buffer.getvalue()


def _plot_widget() -> Any:
    import ipywidgets as widgets

    return widgets.Image(format="png", layout=widgets.Layout(width=_PLOT_WIDTH, max_width="100%"))


STILL_NOTE = "a still picture of the explorer: run the notebook to move its controls"


def _still_png(fig: Figure) -> bytes:
    """Render ``fig`` with a note above it saying it is a still, then close it."""
    import matplotlib.pyplot as plt

    fig.text(0.5, 1.0, STILL_NOTE, ha="center", va="bottom", fontsize=9, style="italic")
    buffer = io.BytesIO()
    # bbox "tight" grows the canvas to take in the note above the figure.
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)
    return buffer.getvalue()


@functools.cache
def _explorer_class() -> type[Any]:
    """The box every explorer returns: an ``ipywidgets.VBox`` that displays well unrun.

    Made on first use, so ``import perflab.widgets`` does not import ipywidgets.
    """
    import ipywidgets as widgets

    class Explorer(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
        """A ``VBox`` whose display also carries a text line and a still picture.

        A live front end (JupyterLab) draws the widget view and ignores the rest; a
        renderer with no kernel (GitHub, the course website, nbconvert) falls back
        to the still picture (``image/png``) or the text (``text/plain``), instead of
        a raw ``VBox(children=(HBox(...`` repr.
        """

        def __init__(
            self,
            children: Sequence[Any],
            *,
            name: str,
            summary: Callable[[], str],
            still: Callable[[], bytes | None],
        ) -> None:
            super().__init__(list(children))
            self._perflab_name = name
            self._perflab_summary = summary
            self._perflab_still = still

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)
            bundle["text/plain"] = (
                f"{self._perflab_name}: {self._perflab_summary()}\n"
                "Its controls move only in a running notebook: run the notebook "
                "(Run > Run All Cells) to use them."
            )
            picture = self._perflab_still()
            if picture is not None:
                bundle["image/png"] = base64.b64encode(picture).decode("ascii")
            return bundle

    return Explorer


def _explorer(
    children: Sequence[Any],
    *,
    name: str,
    summary: Callable[[], str],
    still: Callable[[], bytes | None],
) -> Any:
    """Wrap an explorer's widgets in the box that displays a still picture when unrun.

    Args:
        children: the explorer's widgets, top to bottom.
        name: what it is, e.g. ``"Amdahl explorer (sliders P and S)"``.
        summary: returns the current state in one line of words.
        still: returns a PNG of the current plot (made with ``_still_png``), or
            ``None`` when there is no plot to show.
    """
    return _explorer_class()(children, name=name, summary=summary, still=still)


def _table(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{html.escape(k)}</td>"
        f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"


# ------------------------------------------------------------------ Amdahl


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
    plot = _plot_widget()

    def update(_change: object = None) -> None:
        view = amdahl_view(p_slider.value, s_slider.value)
        text.value = f"<b>{html.escape(view.describe())}</b>"
        plot.value = _png(_amdahl_figure(view))

    def current() -> AmdahlView:
        return amdahl_view(p_slider.value, s_slider.value)

    p_slider.observe(update, names="value")
    s_slider.observe(update, names="value")
    update()
    return _explorer(
        [widgets.HBox([p_slider, s_slider]), text, plot],
        name="Amdahl explorer (sliders P and S)",
        summary=lambda: current().describe(),
        still=lambda: _still_png(_amdahl_figure(current())),
    )


# ------------------------------------------------------------------ cache threshold


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
            ("recall", _pct(pt.recall)),
            ("hit rate", _pct(pt.hit_rate)),
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
    plot = _plot_widget()

    def update(_change: object = None) -> None:
        view = threshold_view(sims, same, slider.value, pairs=pairs)
        listed = "".join(
            f"<li>{s:.3f} {html.escape(name)}</li>" for s, name in view.false_pairs[:max_listed]
        )
        more = len(view.false_pairs) - max_listed
        tail = f"<li>... and {more} more</li>" if more > 0 else ""
        false_hits = f"<ul>{listed}{tail}</ul>" if listed else "<p>no false hits</p>"
        text.value = _table(view.rows()) + "<b>false hits (wrong answers served):</b>" + false_hits
        plot.value = _png(_threshold_figure(view, title))

    def current() -> ThresholdView:
        return threshold_view(sims, same, slider.value, pairs=pairs)

    slider.observe(update, names="value")
    update()
    return _explorer(
        [slider, text, plot],
        name="Threshold explorer (a threshold slider)",
        summary=lambda: "; ".join(f"{k} {v}" for k, v in current().rows()),
        still=lambda: _still_png(_threshold_figure(current(), title)),
    )


# ------------------------------------------------------------------ the simulated pipeline


@dataclass(frozen=True)
class SimView:
    """One simulated run, reduced to what the explorer shows.

    Attributes:
        params: every parameter of the run, in the order shown ("simulated: ...").
        summary: the run's ``SimSummary``.
        rate_limited: calls refused with 429 over all services.
        failed: articles that ended in an error.
        latencies_s: each request's latency, seconds.
    """

    params: dict[str, Any]
    summary: SimSummary
    rate_limited: int
    failed: int
    latencies_s: tuple[float, ...]

    def rows(self) -> list[tuple[str, str]]:
        """The headline figures as (label, formatted value) rows."""
        s = self.summary
        return [
            ("articles delivered", f"{s.completed} of {s.requests}"),
            (
                "P50 / P95 / P99 latency",
                f"{s.latency.p50_s:.2f} / {s.latency.p95_s:.2f} / {s.latency.p99_s:.2f} s",
            ),
            ("throughput", f"{s.throughput_per_hour:,.0f} articles/hour"),
            ("cost per article", f"${s.cost_per_article_usd:.5f}"),
            (
                "cache hit rate / false hits",
                f"{_pct(s.hit_rate)} / {_pct(s.false_hits_per_hit)} of hits",
            ),
            ("429s / failed articles", f"{self.rate_limited} / {self.failed}"),
        ]


def sim_view(
    profile: str = "baseline",
    *,
    requests: int = 300,
    seed: int = 0,
    parallel_workers: int | None = None,
    threshold: float | None = None,
    pool_max: int | None = None,
    clients: int = 20,
    semantic_cache: bool = True,
) -> SimView:
    """Run the simulated pipeline (virtual clock) with a profile and a few overrides.

    ``None`` keeps the profile's value. Lowering ``pool_max`` below the profile's
    ``CONNECTION_POOL_MIN`` lowers the minimum with it (a pool of 2-1 is not a pool).

    Args:
        profile: ``baseline``, ``budget``, ``agency``, ``realtime``, ``dev`` or ``prod``.
        requests: articles to simulate.
        seed: fixes every random draw (same seed, same numbers).
        parallel_workers: ``PARALLEL_WORKERS``, concurrent remote calls (>= 1).
        threshold: ``CACHE_SIMILARITY_THRESHOLD`` in (0, 1].
        pool_max: ``CONNECTION_POOL_MAX`` (>= 1).
        clients: clients of the closed-loop workload (>= 1).
        semantic_cache: ``False`` switches the semantic cache off (every article calls
            the search API and the LLM: a cold cache, the worst case).

    Returns:
        A ``SimView``.

    Raises:
        ValueError: an override out of range.
        SimulationError: an unknown profile or impossible workload (from ``perflab.sim``).
    """
    from perflab.sim import Switches, Workload, scenario_settings, simulate

    settings = scenario_settings(profile)
    workers = settings.parallel_workers if parallel_workers is None else parallel_workers
    thr = settings.cache_similarity_threshold if threshold is None else threshold
    pmax = settings.connection_pool_max if pool_max is None else pool_max
    if workers < 1:
        raise ValueError(f"parallel_workers ({workers}) must be >= 1")
    if not 0 < thr <= 1:
        raise ValueError(f"threshold ({thr}) must be within (0, 1]")
    if pmax < 1:
        raise ValueError(f"pool_max ({pmax}) must be >= 1")
    pmin = min(settings.connection_pool_min, pmax)
    settings = settings.model_copy(
        update={
            "parallel_workers": workers,
            "cache_similarity_threshold": thr,
            "connection_pool_min": pmin,
            "connection_pool_max": pmax,
        }
    )
    result = simulate(
        profile,
        settings=settings,
        seed=seed,
        workload=Workload(requests=requests, workers=clients),
        switches=Switches(semantic_cache=semantic_cache),
        progress=False,
    )
    s = result.summary
    params: dict[str, Any] = {
        "profile": profile,
        "requests": requests,
        "clients": clients,
        "seed": seed,
        "PARALLEL_WORKERS": workers,
        "CACHE_SIMILARITY_THRESHOLD": float(thr),
        "CONNECTION_POOL": f"{pmin}-{pmax}",
        "semantic_cache": "on" if semantic_cache else "off",
    }
    return SimView(
        params=params,
        summary=s,
        rate_limited=sum(st.rate_limited for st in result.services.values()),
        failed=s.requests - s.completed,
        latencies_s=tuple(float(x) for x in result.frame["latency_s"]),
    )


def _sim_figure(view: SimView) -> Figure:
    from perflab import viz

    s = view.summary
    return viz.histogram(
        view.latencies_s,
        marks={"P50": s.latency.p50_s, "P95": s.latency.p95_s, "P99": s.latency.p99_s},
        title="Article latency (simulated; log count: cache hits pile up near 0)",
        xlabel="latency (s)",
        log=True,
        simulated=view.params,
    )


def sim_explorer(
    profile: str = "baseline", requests: int = 300, seed: int = 0, *, semantic_cache: bool = True
) -> Any:
    """Controls for workers, threshold, pool size and clients, and a Run button for the simulator.

    Each run is a ``perflab.sim.simulate`` on the virtual clock (well under a second
    for a few hundred articles), so the same controls always give the same numbers.
    Choosing a profile resets the controls to its settings; changing a control marks
    the shown result as stale until Run is pressed.

    Args:
        profile: the starting profile.
        requests: articles per run.
        seed: the seed of every run.
        semantic_cache: the cache checkbox's starting value (off: a cold cache).

    Returns:
        An ``ipywidgets.VBox``: controls, Run button, summary table and latency histogram.
        Unrun, it displays as a still picture and a line saying to run the notebook.
    """
    import ipywidgets as widgets

    from perflab.sim import scenario_settings

    style = {"description_width": "8em"}
    profiles = widgets.Dropdown(
        options=["baseline", "budget", "agency", "realtime", "dev", "prod"],
        value=profile,
        description="profile",
        style=style,
    )
    workers = widgets.IntSlider(min=1, max=16, description="workers", style=style)
    threshold = widgets.FloatSlider(
        min=0.5, max=0.99, step=0.01, description="threshold", readout_format=".2f", style=style
    )
    pool_max = widgets.IntSlider(min=1, max=50, description="pool max", style=style)
    clients = widgets.IntSlider(value=20, min=1, max=50, description="clients", style=style)
    cache = widgets.Checkbox(value=semantic_cache, description="semantic cache", style=style)
    run = widgets.Button(description="Run", button_style="primary", icon="play")
    status = widgets.HTML()
    text = widgets.HTML()
    plot = _plot_widget()
    shown: list[SimView] = []  # the run on screen, for the still picture

    def load_profile(_change: object = None) -> None:
        settings = scenario_settings(profiles.value)
        workers.value = settings.parallel_workers
        threshold.value = settings.cache_similarity_threshold
        pool_max.value = settings.connection_pool_max

    def stale(_change: object = None) -> None:
        status.value = "<i>controls changed: press Run to simulate them</i>"

    def on_run(_button: object = None) -> None:
        run.disabled = True
        status.value = "<i>simulating...</i>"
        try:
            view = sim_view(
                profiles.value,
                requests=requests,
                seed=seed,
                parallel_workers=workers.value,
                threshold=threshold.value,
                pool_max=pool_max.value,
                clients=clients.value,
                semantic_cache=cache.value,
            )
        except (PerflabError, ValueError) as exc:  # shown to the learner, not swallowed
            status.value = f"<b>error:</b> {html.escape(str(exc))}"
            return
        finally:
            run.disabled = False
        from perflab import viz

        label = html.escape(viz.simulated_label(view.params))
        text.value = f"<b>{label}</b> (virtual clock)" + _table(view.rows())
        plot.value = _png(_sim_figure(view))
        status.value = ""
        shown[:] = [view]

    load_profile()
    profiles.observe(load_profile, names="value")
    for control in (profiles, workers, threshold, pool_max, clients, cache):
        control.observe(stale, names="value")
    run.on_click(on_run)
    on_run()
    controls = widgets.VBox([profiles, workers, threshold, pool_max, clients, cache])

    def summary() -> str:
        if not shown:
            return "no run on screen (the first run failed: see its error)"
        view = shown[-1]
        from perflab import viz

        rows = "; ".join(f"{k} {v}" for k, v in view.rows())
        return f"{viz.simulated_label(view.params)} (virtual clock): {rows}"

    return _explorer(
        [controls, widgets.HBox([run, status]), text, plot],
        name="Simulator explorer (controls and a Run button)",
        summary=summary,
        still=lambda: _still_png(_sim_figure(shown[-1])) if shown else None,
    )
