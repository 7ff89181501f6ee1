"""The saturation chart (issue #17): per dimension, the new categories of each batch as
bars and their running total as a line, with the batch after which Guest, Namey & Chen's
(2020) rule saw saturation marked. Django-free, drawn like analysis.charts' figures."""

import numpy as np

from .charts import PALETTE, _figure, empty, styled


def saturation_figure(dimensions, *, batch_size: int, title: str = ""):
    """``dimensions``: objects with ``name``, ``new``, ``cumulative`` and ``verdict``."""
    shown = [d for d in dimensions if d.new]
    if not shown:
        return empty("No complete batch yet.")
    with styled():
        fig = _figure(2.2 * len(shown) + 0.4)
        axes = fig.subplots(len(shown), 1, squeeze=False)[:, 0]
        for index, (ax, d) in enumerate(zip(axes, shown, strict=True)):
            xs = np.arange(1, len(d.new) + 1)
            ax.bar(xs, d.new, color=PALETTE(2 * index % 20), label="new categories")
            line = ax.twinx()
            line.plot(xs, d.cumulative, color="#1d2330", marker="o", markersize=3,
                      label="categories so far")  # fmt: skip
            line.set_ylim(0, max(max(d.cumulative), 1) * 1.15)
            line.set_ylabel("so far")
            if d.verdict.saturated:
                ax.axvline(d.verdict.at_batch + 0.5, color="#b42318", linestyle="--")
                ax.text(d.verdict.at_batch + 0.6, max(max(d.new), 1) * 0.9, "saturation",
                        color="#b42318")  # fmt: skip
            ax.set_xticks(xs)
            ax.set_ylabel("new")
            ax.set_title(f"{d.name}: {d.verdict.reason}" if len(d.verdict.reason) < 90
                         else d.name)  # fmt: skip
        axes[-1].set_xlabel(f"batch of {batch_size} items, in the order first labeled")
        if title:
            fig.suptitle(title)
    return fig
