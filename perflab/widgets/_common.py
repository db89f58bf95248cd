"""The plumbing the three explorers share: the box that displays a still picture when
unrun, PNG rendering, the plot widget, HTML tables and percentages.

ipywidgets and matplotlib are imported inside the functions, so importing this module
costs nothing.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


__all__ = ["STILL_NOTE", "explorer", "pct", "plot_widget", "png", "still_png", "table"]

_PLOT_WIDTH = "700px"


def png(fig: Figure) -> bytes:
    """Render ``fig`` to PNG bytes and close it (so the inline backend never shows it twice)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # 1.5x the figure's dpi, shown at _PLOT_WIDTH: sharp on a laptop screen, still small.
    fig.savefig(buffer, format="png", dpi=1.5 * fig.dpi)
    plt.close(fig)
    return buffer.getvalue()


def plot_widget() -> Any:
    import ipywidgets as widgets

    return widgets.Image(format="png", layout=widgets.Layout(width=_PLOT_WIDTH, max_width="100%"))


STILL_NOTE = "a still picture of the explorer: run the notebook to move its controls"


def still_png(fig: Figure) -> bytes:
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


def explorer(
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
        still: returns a PNG of the current plot (made with ``still_png``), or
            ``None`` when there is no plot to show.
    """
    return _explorer_class()(children, name=name, summary=summary, still=still)


def table(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='text-align:left;padding-right:1em'>{html.escape(k)}</td>"
        f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cells}</table>"


def pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1%}"
