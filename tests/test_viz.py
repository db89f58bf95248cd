"""The lesson plots: a fixed size, readable text, legends that never cover data."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from perflab import viz, viz_scaling


@pytest.fixture(autouse=True)
def _close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _axes_box(fig):
    fig.canvas.draw()
    return fig.axes[0].get_window_extent()


def test_every_helper_draws_one_figure_of_the_fixed_size():
    """Each helper's figure is 680x380 px, so its text repr is stable for nbval."""
    figures = [
        viz.histogram([1.0, 2.0, 2.5, 3.0], marks={"P50": 2.2}),
        viz.bars({"a": 1.0, "b": 2.0}),
        viz.stacked_bars({"x": {"s": 1.0, "t": 2.0}}),
        viz.lines([1, 2, 3], {"y": [1, 2, 3]}),
        viz.timeseries([0, 1, 2], {"y": [1, 3, 2]}, thresholds={"t": 2.5}),
        viz.scaling_timeline([0, 1, 2], [10, 60, 90], [1, 1, 2]),
    ]
    for fig in figures:
        assert repr(fig).startswith("<Figure size 680x380 with ")


def test_text_is_set_at_the_readable_sizes():
    """Title, axis labels, ticks and the simulated footer use TEXT_PT, footer >= 10 pt."""
    fig = viz.lines(
        [1, 2, 3], {"y": [1, 2, 3]}, title="T", xlabel="x", ylabel="y", simulated={"a": 1}
    )
    ax = fig.axes[0]
    assert ax.title.get_fontsize() == viz.TEXT_PT["title"]
    assert ax.xaxis.label.get_fontsize() == viz.TEXT_PT["label"]
    assert ax.get_xticklabels()[0].get_fontsize() == viz.TEXT_PT["ticks"]
    footer = [t for t in fig.texts if t.get_text().startswith("simulated")]
    assert footer and footer[0].get_fontsize() >= 10


def test_a_legend_stays_inside_when_a_corner_is_free():
    """Two lines in the lower half leave the upper corners free: the legend goes there."""
    fig = viz.lines([0, 1, 2, 3], {"a": [0, 0.1, 0.2, 0.1], "b": [0.1, 0, 0.1, 0.2]})
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    assert _axes_box(fig).contains(box.x0 + 1, box.y0 + 1)
    assert not viz.covers_data(ax, box)


def test_a_legend_moves_outside_when_data_fills_every_spot():
    """Six lines spread over the whole height leave no free spot: the legend goes outside."""
    x = [0, 1, 2, 3, 4]
    series = {f"level {k}": [k, k + 0.3, k, k + 0.3, k] for k in range(6)}
    fig = viz.lines(x, series)
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    assert box.x0 >= _axes_box(fig).x1  # to the right of the axes
    assert not viz.covers_data(ax, box)


def test_a_legend_may_cover_part_of_a_reference_line():
    """A default's vertical line through the free corner does not push the legend out."""
    fig = viz.lines(
        [0.5, 0.6, 0.7, 0.8, 0.9],
        {"hit rate": [0.1, 0.08, 0.05, 0.03, 0.01]},
        vlines={"default 0.8": 0.8},
    )
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    assert _axes_box(fig).contains(box.x0 + 1, box.y0 + 1)
    assert [ln.get_gid() for ln in ax.get_lines()] == [None, viz.REFERENCE]


def test_marks_keep_their_colour_by_name():
    """P50 is green whether or not a mean mark comes first."""
    one = viz.histogram([1.0, 2.0, 3.0], marks={"P50": 2.0, "P99": 2.9})
    two = viz.histogram([1.0, 2.0, 3.0], marks={"mean": 2.0, "P50": 2.0})
    colour = {
        ln.get_label().split()[0]: ln.get_color()
        for f in (one, two)
        for ln in f.axes[0].get_lines()
    }
    assert colour["P50"] == viz.MARK_COLOURS["p50"] and colour["mean"] == viz.MARK_COLOURS["mean"]


def test_shading_can_be_named_in_the_legend():
    """shade_label names the first shaded window once."""
    fig = viz.timeseries(
        [0, 1, 2, 3], {"y": [0, 1, 0, 1]}, shade_above=[(0, 1), (2, 3)], shade_label="alert firing"
    )
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels.count("alert firing") == 1


def test_covers_data_sees_lines_markers_bars_and_labels():
    """A box over a line, or over a bar, covers data; a box in empty space does not."""
    from matplotlib.transforms import Bbox

    fig = viz.bars({"a": 1.0, "b": 2.0})
    ax = fig.axes[0]
    fig.canvas.draw()
    bar = ax.patches[0].get_window_extent()
    assert viz.covers_data(ax, bar)
    corner = ax.get_window_extent()
    empty = Bbox.from_extents(corner.x0 + 2, corner.y1 - 6, corner.x0 + 6, corner.y1 - 2)
    assert not viz.covers_data(ax, empty)


def test_shaded_alert_windows_do_not_count_as_data():
    """timeseries' shading is background: the legend may sit on it."""
    fig = viz.timeseries([0, 1, 2, 3], {"y": [0, 0.1, 0.1, 0]}, shade_above=[(0, 3)])
    ax = fig.axes[0]
    assert [p.get_gid() for p in ax.patches] == [viz.BACKGROUND]
    assert _axes_box(fig).contains(*ax.get_legend().get_window_extent().p0 + 1)


def test_reference_lines_each_look_different():
    """Three hlines and three vlines: no two share colour and dash."""
    fig = viz.lines(
        [0, 1],
        {"y": [0, 1]},
        hlines={"a": 0.2, "b": 0.5, "c": 0.8},
        vlines={"d": 0.2, "e": 0.5, "f": 0.8},
    )
    styles = [(ln.get_color(), str(ln.get_linestyle())) for ln in fig.axes[0].get_lines()[1:]]
    assert len(set(styles)) == 6


def test_bar_labels_stay_inside_the_frame():
    """The tallest bar's label ends below the top border (headroom)."""
    fig = viz.bars({"low": 1.0, "tall": 4000.0}, annotate="{:,.0f}")
    ax = fig.axes[0]
    top = _axes_box(fig).y1
    labels = [t.get_window_extent().y1 for t in ax.texts]
    assert labels and max(labels) < top


def test_use_retina_does_nothing_outside_ipython():
    """Outside a notebook there is no inline backend to set."""
    assert viz.use_retina() is False


def test_the_old_scaling_module_re_exports_the_same_function():
    """``perflab.viz_scaling.scaling_timeline`` is ``perflab.viz.scaling_timeline``."""
    assert viz_scaling.scaling_timeline is viz.scaling_timeline


def test_reference_lines_never_take_a_series_colour():
    """No hline/vline colour is one of matplotlib's default cycle (the series' colours)."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    cycle = {to_hex(c) for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]}
    for colour, _dash in viz.HLINE_STYLES + viz.VLINE_STYLES:
        assert to_hex(colour) not in cycle


def test_a_whole_float_in_the_footer_is_a_whole_number():
    """200000.0 reads as 200000, not 2e+05; a fraction keeps 4 significant digits."""
    assert viz.simulated_label({"tpm": 2e5, "sigma": 0.123456, "n": 3}) == (
        "simulated: tpm=200000, sigma=0.1235, n=3"
    )


def test_log_axes_are_labelled_in_plain_numbers():
    """A log x axis over 250..4000 labels its ticks 500, 1000, 2000 (no 10^k)."""
    fig = viz.lines([250, 1000, 4000], {"y": [1, 2, 3]}, logx=True)
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1000" in labels and "500" in labels
    assert not any("10^" in t or "times" in t or "$" in t for t in labels)


def test_whole_number_x_values_get_whole_number_ticks():
    """Pool sizes 1..10 never get a 2.5 tick."""
    fig = viz.lines(list(range(1, 11)), {"wait": [10 - i for i in range(10)]})
    ticks = fig.axes[0].get_xticks()
    assert all(float(t).is_integer() for t in ticks)


def test_place_legend_again_after_drawing_more():
    """A second place_legend call on a helper's figure keeps its footer's area by default."""
    fig = viz.lines([0, 1, 2], {"a": [0, 0.1, 0.2]}, simulated={"seed": 1})
    ax = fig.axes[0]
    ax.scatter([1.9], [0.19], label="extra")
    legend = viz.place_legend(fig, ax)
    assert legend is not None and not viz.covers_data(ax, legend.get_window_extent())
    assert ax.get_position().y0 > 0.08  # still above the simulated footer
