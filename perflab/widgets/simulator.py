"""The simulator explorer: the pipeline's switches and scenario, a simulated run's
table and latency histogram, labelled "simulated" with every parameter of the run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from perflab.errors import PerflabError
from perflab.widgets._common import explorer, pct, plot_widget, png, still_png, table

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from perflab.sim import SimSummary

__all__ = ["SimView", "sim_explorer", "sim_view"]


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
                f"{pct(s.hit_rate)} / {pct(s.false_hits_per_hit)} of hits",
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
    plot = plot_widget()
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
        text.value = f"<b>{label}</b> (virtual clock)" + table(view.rows())
        plot.value = png(_sim_figure(view))
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

    return explorer(
        [controls, widgets.HBox([run, status]), text, plot],
        name="Simulator explorer (controls and a Run button)",
        summary=summary,
        still=lambda: still_png(_sim_figure(shown[-1])) if shown else None,
    )
