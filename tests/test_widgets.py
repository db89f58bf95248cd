"""The explorers: their pure computations, and that the widgets recompute headless."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from perflab.cache.calibration import threshold_curve
from perflab.models import amdahl_speedup
from perflab.sim import simulate
from perflab.widgets import (
    amdahl_explorer,
    amdahl_view,
    sim_explorer,
    sim_view,
    threshold_explorer,
    threshold_view,
)

pytest.importorskip("ipywidgets")

SIMS = np.array([0.95, 0.91, 0.86, 0.83, 0.78, 0.72, 0.65, 0.40])
SAME = np.array([True, True, False, True, True, False, True, False])
PAIRS = [(f"query {i}", f"other {i}") for i in range(len(SIMS))]


def _walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _control(box: Any, description: str) -> Any:
    return next(w for w in _walk(box) if getattr(w, "description", None) == description)


def _html(box: Any) -> str:
    """The text of the explorer's HTML widgets, joined."""
    return "\n".join(
        w.value for w in _walk(box) if type(w).__name__ == "HTML" and isinstance(w.value, str)
    )


def _image(box: Any) -> bytes:
    return bytes(next(w for w in _walk(box) if type(w).__name__ == "Image").value)


# ------------------------------------------------------------------ pure functions


def test_amdahl_view_matches_the_model() -> None:
    """The speed-up and every curve point are amdahl_speedup's; the ceiling is 1/(1-P)."""
    view = amdahl_view(0.9, 10)
    assert view.speedup == pytest.approx(amdahl_speedup(0.9, 10))
    assert view.ceiling == pytest.approx(10.0)
    assert view.share_of_ceiling == pytest.approx(view.speedup / 10)
    assert view.s_values[0] == 1.0 and view.s_values[-1] == pytest.approx(1000.0)
    assert view.speedups[0] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(view.speedups, view.speedups[1:]))
    assert view.speedups[-1] < view.ceiling


def test_amdahl_view_has_no_ceiling_when_everything_speeds_up() -> None:
    """With P = 1 the ceiling is infinite and the description says so."""
    view = amdahl_view(1.0, 4)
    assert math.isinf(view.ceiling)
    assert view.speedup == pytest.approx(4.0)
    assert "no ceiling" in view.describe()


@pytest.mark.parametrize(("p", "s", "kw"), [(1.5, 2, {}), (0.5, 0, {}), (0.5, 2, {"s_max": 1})])
def test_amdahl_view_refuses_bad_input(p: float, s: float, kw: dict[str, float]) -> None:
    """P outside [0, 1], S <= 0 or a curve that ends at 1 raise ValueError."""
    with pytest.raises(ValueError):
        amdahl_view(p, s, **kw)  # type: ignore[arg-type]


def test_threshold_view_agrees_with_threshold_curve() -> None:
    """The point at the threshold is threshold_curve's, and the false hits are listed by name."""
    view = threshold_view(SIMS, SAME, 0.8, pairs=PAIRS)
    expected = threshold_curve(SIMS, SAME, thresholds=[0.8]).points[0]
    assert view.point == expected
    assert (view.point.hits, view.point.false_hits) == (4, 1)
    assert view.false_pairs == ((0.86, "'query 2' ~ 'other 2'"),)
    rows = dict(view.rows())
    assert rows["false hits"] == "1"
    assert rows["recall"] == "60.0%"


def test_threshold_view_lowering_the_threshold_adds_false_hits() -> None:
    """At 0.7 the 0.72 hard negative hits too; false hits are sorted most similar first."""
    view = threshold_view(SIMS, SAME, 0.7)
    assert [s for s, _ in view.false_pairs] == [0.86, 0.72]
    assert view.false_pairs[1][1] == "pair 5"


def test_threshold_view_with_no_hits_says_so() -> None:
    """Above every similarity precision is reported as not available."""
    view = threshold_view(SIMS, SAME, 0.99)
    assert view.point.hits == 0
    assert dict(view.rows())["precision [95% CI]"] == "n/a (no hits)"


def test_threshold_view_refuses_pairs_of_another_length() -> None:
    """Names for a different number of pairs are a ValueError."""
    with pytest.raises(ValueError, match="pairs"):
        threshold_view(SIMS, SAME, 0.8, pairs=PAIRS[:3])


def test_sim_view_is_the_simulators_run() -> None:
    """sim_view with a profile's own values reproduces simulate() and labels every parameter."""
    view = sim_view("baseline", requests=60, seed=3)
    direct = simulate("baseline", requests=60, seed=3)
    assert view.summary == direct.summary
    assert len(view.latencies_s) == 60
    assert view.params["PARALLEL_WORKERS"] == 3
    assert view.params["CONNECTION_POOL"] == "2-10"
    assert view.failed == direct.summary.requests - direct.summary.completed
    labels = [label for label, _ in view.rows()]
    assert "P50 / P95 / P99 latency" in labels and "429s / failed articles" in labels


def test_sim_view_overrides_reach_the_run() -> None:
    """Workers, threshold and pool size change the run; a pool max below the min lowers the min."""
    view = sim_view("baseline", requests=60, seed=3, parallel_workers=1, threshold=0.6, pool_max=1)
    assert view.params["PARALLEL_WORKERS"] == 1
    assert view.params["CONNECTION_POOL"] == "1-1"
    assert view.summary != sim_view("baseline", requests=60, seed=3).summary


@pytest.mark.parametrize("kw", [{"parallel_workers": 0}, {"threshold": 1.5}, {"pool_max": 0}])
def test_sim_view_refuses_bad_overrides(kw: dict[str, float]) -> None:
    """An override out of range is a ValueError naming it."""
    with pytest.raises(ValueError, match=next(iter(kw))):
        sim_view(requests=10, **kw)  # type: ignore[arg-type]


def test_sim_view_without_the_semantic_cache_calls_the_llm_every_time() -> None:
    """With the cache off there are no hits and every article calls the LLM."""
    view = sim_view("baseline", requests=40, seed=3, semantic_cache=False)
    assert view.params["semantic_cache"] == "off"
    assert view.summary.calls_by_service["llm"] >= 40
    assert not view.summary.hit_rate > 0


# ------------------------------------------------------------------ widgets, headless


def test_amdahl_explorer_recomputes_when_a_slider_moves() -> None:
    """Setting P redraws the text and the plot with the new ceiling."""
    box = amdahl_explorer(p=0.5, s=2.0)
    assert "ceiling 2.00x" in _html(box)
    before = _image(box)
    assert before.startswith(b"\x89PNG")
    _control(box, "P").value = 0.9
    assert "ceiling 10.00x" in _html(box)
    assert _image(box) != before
    _control(box, "S").value = 10.0
    assert f"{amdahl_speedup(0.9, 10):.2f}x overall" in _html(box)


def test_threshold_explorer_recomputes_when_the_threshold_moves() -> None:
    """Moving the threshold from 0.8 to 0.7 lists the extra false hit by name."""
    box = threshold_explorer(SIMS, SAME, pairs=PAIRS, threshold=0.8)
    assert "query 2" in _html(box) and "query 5" not in _html(box)
    _control(box, "threshold").value = 0.7
    assert "query 5" in _html(box)
    _control(box, "threshold").value = 0.99
    assert "no false hits" in _html(box)


def test_sim_explorer_runs_on_build_and_on_click() -> None:
    """The explorer shows a labelled simulated run; a changed control runs again on Run."""
    box = sim_explorer(requests=40, seed=1, semantic_cache=False)
    shown = _html(box)
    assert "semantic_cache=off" in shown
    assert "simulated: profile=baseline, requests=40" in shown
    assert "PARALLEL_WORKERS=3" in shown
    _control(box, "workers").value = 1
    assert "press Run" in _html(box)
    _control(box, "Run").click()
    after = _html(box)
    assert "PARALLEL_WORKERS=1" in after and "press Run" not in after
    assert _image(box).startswith(b"\x89PNG")


def test_sim_explorer_profile_resets_the_controls() -> None:
    """Choosing the agency profile loads its workers, threshold and pool size."""
    box = sim_explorer(requests=20)
    _control(box, "profile").value = "agency"
    assert _control(box, "workers").value == 5
    assert _control(box, "threshold").value == pytest.approx(0.75)
    assert _control(box, "pool max").value == 50


# ------------------------------------------------------------------ displayed unrun


def _display(box: Any) -> dict[str, Any]:
    """What IPython puts in the notebook for ``box``: its display data, by MIME type."""
    from IPython.core.formatters import DisplayFormatter

    data, _metadata = DisplayFormatter().format(box)
    return dict(data)


def _still(data: dict[str, Any]) -> bytes:
    return base64.b64decode(data["image/png"])


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: amdahl_explorer(p=0.9, s=10.0), "Amdahl explorer"),
        (lambda: threshold_explorer(SIMS, SAME, pairs=PAIRS), "Threshold explorer"),
        (lambda: sim_explorer(requests=20), "Simulator explorer"),
    ],
)
def test_explorer_displays_a_text_line_and_a_still_picture(make: Any, name: str) -> None:
    """Beside the live widget view, the display holds a 'run the notebook' line and a PNG."""
    data = _display(make())
    assert "application/vnd.jupyter.widget-view+json" in data
    text = data["text/plain"]
    assert text.startswith(name) and "run the notebook" in text
    assert "VBox(" not in text
    assert _still(data).startswith(b"\x89PNG")


def test_explorer_display_shows_its_current_state() -> None:
    """The text line and the still follow the sliders: they describe what is on screen."""
    box = amdahl_explorer(p=0.5, s=2.0)
    before = _display(box)
    assert amdahl_view(0.5, 2.0).describe() in before["text/plain"]
    _control(box, "P").value = 0.9
    after = _display(box)
    assert amdahl_view(0.9, 2.0).describe() in after["text/plain"]
    assert _still(after) != _still(before)


def test_sim_explorer_display_after_a_failed_first_run_has_no_picture() -> None:
    """With no run on screen there is no still to show, and the text says why."""
    data = _display(sim_explorer(requests=0))
    assert "no run on screen" in data["text/plain"]
    assert "image/png" not in data


def _explorer_outputs() -> list[tuple[str, dict[str, Any]]]:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "notebooks"
    found = []
    for path in sorted(root.rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and "_explorer(" in "".join(cell["source"]):
                found += [(path.name, out.get("data", {})) for out in cell["outputs"]]
    return found


def test_saved_lessons_show_each_explorer_as_a_still_and_a_line() -> None:
    """Every explorer output saved in a lesson has its still picture and the run line."""
    outputs = _explorer_outputs()
    assert len(outputs) >= 3  # 02, 05 and 06 have explorers
    for name, data in outputs:
        assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG"), name
        text = "".join(data["text/plain"])
        assert "run the notebook" in text and "VBox(" not in text, name
