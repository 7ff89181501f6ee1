"""The chart builders: every kind renders in every format, long or hostile category names
are cut short instead of squeezing the plot away, and text stays escaped in the SVG."""

import warnings
import xml.etree.ElementTree as ET

import pytest

from analysis import charts

LONG = "Incorrect Functionality > " + "a very long category name " * 16
HOSTILE = "<script>alert('x')</script> & <img src=x onerror=alert(1)>"


def every_chart(labels):
    rows, cols = labels[:2], labels[1:]
    counts = [[3, 1], [0, 5]]
    return {
        "bars": charts.bars(labels, [5, 3, 1]),
        "treemap": charts.treemap([(labels[0], 6, [(labels[1], 4), (labels[2], 2)])]),
        "heatmap": charts.heatmap(rows, cols, counts),
        "percent_bars": charts.percent_bars(rows, cols, counts),
        "correlation": charts.correlation(rows, [[1.0, None], [None, 1.0]]),
        "kappa_forest": charts.kappa_forest(labels, [0.4, None, 0.7], [0.2, 0, 0.5], [0.6, 0, 0.9]),
    }


def test_short_keeps_the_last_two_parts_and_at_most_two_lines():
    assert charts.short("Crash > CUDA Error > Out of Memory") == "CUDA Error > Out of Memory"
    assert charts.short("Hang") == "Hang"
    cut = charts.short(LONG)
    assert len(cut.splitlines()) == 2
    assert cut.endswith("…")
    assert charts.short(LONG, 18, 1).count("\n") == 0


@pytest.mark.parametrize("fmt", sorted(charts.FORMATS))
def test_long_and_hostile_names_render_in_every_format_without_layout_warnings(fmt):
    labels = [LONG, HOSTILE, "Hang"]
    with warnings.catch_warnings():
        # matplotlib warns when a label leaves the axes no room ("axes sizes collapsed").
        warnings.simplefilter("error")
        for name, figure in every_chart(labels).items():
            data = charts.render(figure, fmt)
            assert data, name
            if fmt == "svg":
                ET.fromstring(data)  # well-formed: the names' markup is escaped text
                assert b"<script>" not in data and b"<img" not in data, name
            box = figure.axes[0].get_position()  # the plot (a colorbar comes after it)
            assert box.width > 0.2 and box.height > 0.1, f"{name}: the plot was squeezed"


def test_inline_svg_has_no_prolog_and_salted_ids():
    svg = charts.inline_svg(charts.bars(["Crash", "Hang"], [4, 1]), "rq1")
    assert svg.startswith("<svg")
    ids = [e.get("id") for e in ET.fromstring(svg).iter() if e.get("id")]
    assert ids and all(i.startswith("rq1-") for i in ids)


def test_empty_data_gives_a_message_not_an_error():
    for figure in (charts.bars([], []), charts.heatmap([], [], []), charts.treemap([])):
        assert b"No data yet." in charts.render(figure, "svg")
    assert b"No defined kappa yet." in charts.render(
        charts.kappa_forest(["a"], [None], [None], [None]), "svg"
    )


DOLLARS = ["$x$", "$\\frac{", "$\\frac{$", "a$b$c"]


@pytest.mark.parametrize("fmt", sorted(charts.FORMATS))
def test_dollar_signs_are_drawn_literally_not_as_mathtext(fmt):
    """`$…$` in a name is text, never matplotlib mathtext: `$\\frac{$` used to raise (a 500
    for every member) and `$x$` to lose its dollars (issue #12)."""
    counts = [[3, 1, 0, 2], [0, 5, 1, 1], [2, 2, 2, 2], [1, 0, 0, 4]]
    r = [[1.0, 0.5, None, 0.1], [0.5, 1.0, 0.2, 0.3], [None, 0.2, 1.0, 0.4], [0.1, 0.3, 0.4, 1.0]]
    figures = {
        "bars": charts.bars(DOLLARS, [5, 3, 2, 1], title="$t$", xlabel="$u$"),
        "treemap": charts.treemap([(DOLLARS[0], 6, [(d, 2) for d in DOLLARS[1:]])]),
        "heatmap": charts.heatmap(DOLLARS, DOLLARS, counts),
        "percent_bars": charts.percent_bars(DOLLARS, DOLLARS, counts),
        "correlation": charts.correlation(DOLLARS, r),
        "kappa_forest": charts.kappa_forest(DOLLARS, [0.4] * 4, [0.2] * 4, [0.6] * 4),
    }
    for name, figure in figures.items():
        data = charts.render(figure, fmt)
        assert data, name
        if fmt == "svg":
            texts = "".join(ET.fromstring(data).itertext())
            shown = DOLLARS[:1] if name == "treemap" else DOLLARS
            for label in shown:
                assert label in texts, (name, label)
    svg = charts.inline_svg(figures["bars"], "dollars")
    assert all(label in svg for label in DOLLARS)


def test_charts_rendered_at_once_in_threads_keep_their_text():
    """rcParams are global: without the style lock a thread leaving its style restored the
    defaults under another thread's drawing, and that SVG's text came out as paths (the
    treemap's labels and title gone in the browser under load)."""
    from concurrent.futures import ThreadPoolExecutor

    from analysis import charts

    def draw(n):
        fig = charts.bars([f"label {n}", "other"], [n + 1, 2], title=f"title {n}")
        return n, charts.render(fig, "svg").decode()

    with ThreadPoolExecutor(max_workers=8) as pool:
        drawn = list(pool.map(draw, range(48)))
    lost = [n for n, svg in drawn if f"title {n}</text>" not in svg]
    assert lost == []
