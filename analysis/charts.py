"""Charts for papers, drawn on the server by matplotlib (Agg): SVG, PNG and PDF.

Django-free. Each builder takes plain lists and returns a matplotlib Figure; ``render``
turns it into bytes. Figures are made with the object API (no pyplot state). The style is
matplotlib's rcParams, which are global to the process: `styled` holds a lock while they are
set, so that a thread serving one chart cannot restore the defaults under another thread's
drawing (two lazy charts of one page, rendered at once by a threaded server, came out with
their text as paths, labels and title lost, under load).
"""

import io
import re
import textwrap
import threading
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import squarify  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

FORMATS = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: searchable, editable, small
    "pdf.fonttype": 42,  # TrueType in PDFs, as publishers ask
    # Names come from users and GitHub: a `$…$` in one is text, never mathtext (which
    # drops the dollars, and raises on input such as `$\\frac{$`).
    "text.parse_math": False,
}
PALETTE = colormaps["tab20"]
_STYLE_LOCK = threading.RLock()


@contextmanager
def styled(extra: dict | None = None):
    """matplotlib's rcParams set to STYLE (and `extra`) for the block, one thread at a time."""
    with _STYLE_LOCK, matplotlib.rc_context({**STYLE, **(extra or {})}):
        yield


WIDTH = 6.5  # inches: a journal's text width


def short(label: str, width: int = 38, lines: int = 2) -> str:
    """The last two parts of a category path, wrapped, for axis labels: at most `lines`
    lines, the rest cut with an ellipsis, so that a long name cannot squeeze the plot away."""
    parts = label.split(" > ")
    text = " > ".join(parts[-2:]) if len(parts) > 2 else label
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" …")) or label


def _figure(height: float) -> Figure:
    with styled():
        return Figure(figsize=(WIDTH, max(height, 1.6)), layout="constrained")


def empty(message: str = "No data yet.") -> Figure:
    fig = _figure(1.6)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#667085")
    return fig


def bars(labels: list[str], values: list[int], *, title: str = "", xlabel: str = "records",
         intervals=None):  # fmt: skip
    """Horizontal bars, largest first, each with its count and share; ``intervals`` (a
    (low, high) share interval in percent per bar, e.g. Wilson's) are drawn as error bars."""
    if not values or sum(values) == 0:
        return empty()
    order = np.argsort(values, kind="stable")
    total = sum(values)
    ends = [float(v) for v in values]
    with styled():
        fig = _figure(0.3 * len(values) + 1.0)
        ax = fig.add_subplot()
        ys = np.arange(len(order))
        ax.barh(ys, [values[i] for i in order], color=PALETTE(0))
        if intervals:
            low = [values[i] - intervals[i][0] * total / 100 for i in order]
            high = [intervals[i][1] * total / 100 - values[i] for i in order]
            ax.errorbar([values[i] for i in order], ys, xerr=[low, high], fmt="none",
                        ecolor="#1d2330", elinewidth=0.8, capsize=2)  # fmt: skip
            ends = [max(values[i], intervals[i][1] * total / 100) for i in range(len(values))]
        ax.set_yticks(ys, [short(labels[i]) for i in order])
        for y, i in zip(ys, order, strict=True):
            ax.text(ends[i], y, f" {values[i]} ({100 * values[i] / total:.1f}%)", va="center")
        ax.set_xlabel(xlabel + (" (error bars: Wilson 95% CI of the share)" if intervals else ""))
        ax.set_xlim(0, max(ends) * 1.3)
        ax.set_title(title)
    return fig


def treemap(groups: list[tuple[str, int, list[tuple[str, int]]]], *, title: str = ""):
    """Two levels of a category tree: each top category's rectangle is split among its
    children (a top category without children stays whole). A label that would leave its
    tile or cross another label is left out (the table beside the chart has every count):
    small tiles sit next to large ones, and their names once covered each other."""
    groups = [g for g in groups if g[1] > 0]
    if not groups:
        return empty()
    with styled():
        fig = _figure(4.2)
        ax = fig.add_subplot()
        width, height = 100.0, 60.0
        sizes = squarify.normalize_sizes([g[1] for g in groups], width, height)
        rects = squarify.squarify(sizes, 0, 0, width, height)
        tops, kids_labels = [], []
        for index, (rect, (name, count, children)) in enumerate(zip(rects, groups, strict=True)):
            color = PALETTE(2 * (index % 10))
            kids = [(n, c) for n, c in children if c > 0] or [(name, count)]
            kid_sizes = squarify.normalize_sizes([c for _, c in kids], rect["dx"], rect["dy"])
            kid_rects = squarify.squarify(kid_sizes, rect["x"], rect["y"], rect["dx"], rect["dy"])
            for kid_rect, (kid_name, kid_count) in zip(kid_rects, kids, strict=True):
                ax.add_patch(
                    Rectangle(
                        (kid_rect["x"], kid_rect["y"]), kid_rect["dx"], kid_rect["dy"],
                        facecolor=color, edgecolor="white", linewidth=0.6, alpha=0.85,
                    )
                )  # fmt: skip
                text = ax.text(
                    kid_rect["x"] + 0.8, kid_rect["y"] + kid_rect["dy"] - 0.8,
                    short(f"{kid_name} ({kid_count})", 18, 3),
                    va="top", ha="left", fontsize=6.5,
                )  # fmt: skip
                kids_labels.append((kid_count, text, kid_rect))
            ax.add_patch(
                Rectangle(
                    (rect["x"], rect["y"]), rect["dx"], rect["dy"],
                    fill=False, edgecolor="#1d2330", linewidth=1.4,
                )
            )  # fmt: skip
            text = ax.text(
                rect["x"] + rect["dx"] - 0.8, rect["y"] + 0.8, f"{short(name, 40, 1)} ({count})",
                ha="right", va="bottom", fontsize=8, fontweight="bold",
            )  # fmt: skip
            tops.append((count, text, rect))
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.axis("off")
        ax.set_title(title)
        # Top categories' names first, then the children's; larger tiles before smaller.
        _drop_crowded_labels(
            fig, ax, sorted(tops, key=_by_count) + sorted(kids_labels, key=_by_count)
        )
    return fig


def _by_count(label) -> int:
    return -label[0]


def _drop_crowded_labels(fig: Figure, ax, labels) -> None:
    """Keep each label, in the given order, that fits inside its tile and crosses no label
    kept before it; remove the others. Extents are measured on an Agg canvas after the
    layout: fonts are sized in points and the figure in inches, so what fits here fits in
    the SVG, PNG and PDF alike."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    kept = []
    for _, text, tile in labels:
        corners = [(tile["x"], tile["y"]), (tile["x"] + tile["dx"], tile["y"] + tile["dy"])]
        (x0, y0), (x1, y1) = ax.transData.transform(corners)
        # A bold name that is too wide for a tall, narrow tile is turned upright.
        for rotation in (0, 90) if text.get_fontweight() == "bold" else (0,):
            text.set_rotation(rotation)
            box = text.get_window_extent(renderer)
            inside = x0 <= box.x0 and box.x1 <= x1 and y0 <= box.y0 and box.y1 <= y1
            if inside and not any(box.padded(1.0).overlaps(other) for other in kept):
                kept.append(box)
                break
        else:
            text.remove()


def heatmap(rows, cols, counts, *, title: str = "", fmt: str = "{:d}", cmap: str = "Blues",
            vmin=None, vmax=None):  # fmt: skip
    """A matrix with each cell's value written in it."""
    array = np.array(counts, dtype=float)
    if array.size == 0:
        return empty()
    masked = np.ma.masked_invalid(array)
    with styled():
        fig = _figure(0.32 * len(rows) + 2.2)
        ax = fig.add_subplot()
        image = ax.imshow(masked, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
        ax.set_xticks(range(len(cols)), [short(c, 22) for c in cols], rotation=60, ha="right")
        ax.set_yticks(range(len(rows)), [short(r) for r in rows])
        top = np.nanmax(array) if np.isfinite(array).any() else 0
        for (i, j), value in np.ndenumerate(array):
            if np.isfinite(value):
                text = fmt.format(int(value) if fmt == "{:d}" else value)
                dark = top and abs(value) > 0.6 * abs(top)
                ax.text(j, i, text, ha="center", va="center", fontsize=6.5,
                        color="white" if dark else "#1d2330")  # fmt: skip
        fig.colorbar(image, ax=ax, shrink=0.7)
        ax.set_title(title)
    return fig


def percent_bars(rows, cols, counts, *, title: str = ""):
    """One horizontal bar per row, split 100% among the columns."""
    array = np.array(counts, dtype=float)
    totals = array.sum(axis=1) if array.size else np.array([])
    if array.size == 0 or not totals.any():
        return empty()
    shares = 100 * array / np.where(totals == 0, 1, totals)[:, None]
    with styled():
        fig = _figure(0.34 * len(rows) + 1.8)
        ax = fig.add_subplot()
        left = np.zeros(len(rows))
        for j, col in enumerate(cols):
            ax.barh(range(len(rows)), shares[:, j], left=left, label=short(col, 30),
                    color=PALETTE(j % 20))  # fmt: skip
            for i, share in enumerate(shares[:, j]):
                if share >= 7:
                    ax.text(left[i] + share / 2, i, f"{share:.0f}", ha="center", va="center",
                            fontsize=6.5)  # fmt: skip
            left += shares[:, j]
        ax.set_yticks(
            range(len(rows)),
            [f"{short(r)} (n={int(t)})" for r, t in zip(rows, totals, strict=True)],
        )
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of records")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3, fontsize=6.5,
                  frameon=False)  # fmt: skip
        ax.set_title(title)
    return fig


def correlation(labels, r, *, title: str = ""):
    """Pearson's r between groups; undefined pairs stay blank."""
    matrix = [[np.nan if v is None else v for v in row] for row in r]
    return heatmap(labels, labels, matrix, title=title, fmt="{:.2f}", cmap="RdBu_r",
                   vmin=-1, vmax=1)  # fmt: skip


def kappa_forest(labels: list[str], kappas, lows, highs, *, title: str = ""):
    """Kappa with its 95% interval per row (undefined rows are left out)."""
    keep = [i for i, k in enumerate(kappas) if k is not None]
    if not keep:
        return empty("No defined kappa yet.")
    with styled():
        fig = _figure(0.3 * len(keep) + 1.2)
        ax = fig.add_subplot()
        ys = np.arange(len(keep))[::-1]
        k = np.array([kappas[i] for i in keep])
        err = np.array([[kappas[i] - lows[i] for i in keep], [highs[i] - kappas[i] for i in keep]])
        ax.errorbar(k, ys, xerr=err, fmt="o", color=PALETTE(0), capsize=3)
        ax.set_yticks(ys, [short(labels[i]) for i in keep])
        for bound in (0.2, 0.4, 0.6, 0.8):
            ax.axvline(bound, color="#d9dee7", linewidth=0.8, zorder=0)
        ax.set_xlim(min(-0.05, float(np.min(k - err[0])) - 0.05), 1.05)
        ax.set_xlabel("kappa: Cohen's, Fleiss' or Light's (95% CI)")
        ax.set_title(title)
    return fig


def render(fig: Figure, fmt: str) -> bytes:
    """The figure as SVG, PNG (300 dpi) or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown chart format '{fmt}'; use svg, png or pdf.")
    buffer = io.BytesIO()
    # A fixed salt: the same chart downloads as the same bytes (matplotlib's ids are random).
    with styled({"svg.hashsalt": "faultline"}):
        fig.savefig(buffer, format=fmt, dpi=300 if fmt == "png" else 100,
                    metadata={"Date": None} if fmt in ("svg", "pdf") else None)  # fmt: skip
    return buffer.getvalue()


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_SVG_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)


def inline_svg(fig: Figure, salt: str) -> str:
    """The figure as an <svg> element for a page: no XML prolog, ids unique per ``salt``
    so several charts can share one document."""
    buffer = io.StringIO()
    with styled({"svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = _PROLOG.sub("", buffer.getvalue(), count=1)
    # The page's Content-Security-Policy allows no <style> elements; static/css/analysis.css
    # holds this one's rule (scoped to charts instead of the whole page).
    text = _SVG_STYLE.sub("", text, count=1)
    # ids that matplotlib does not hash (figure, axes, patches) get the salt as a prefix.
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{salt}-{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{salt}-{m.group(1)})", text)
    text = re.sub(r'xlink:href="#([^"]+)"', lambda m: f'xlink:href="#{salt}-{m.group(1)}"', text)
    return text
