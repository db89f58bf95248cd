"""Interactive explorers for the lessons: move a slider, watch the numbers move.

One module per explorer: ``perflab.widgets.amdahl``, ``perflab.widgets.threshold``,
``perflab.widgets.simulator``; ``perflab.widgets._common`` holds what they share.
Import them from here, as the lessons do.

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

from perflab.widgets._common import STILL_NOTE  # noqa: F401  (was importable from here)
from perflab.widgets.amdahl import AmdahlView, amdahl_explorer, amdahl_view
from perflab.widgets.simulator import SimView, sim_explorer, sim_view
from perflab.widgets.threshold import ThresholdView, threshold_explorer, threshold_view

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
