"""Chart labels never collide (issue #15, defect 3): on the study's data the RQ1 treemap
drew "Crash (295)" over "Hang (19)". A label that does not fit its tile is left out (the
table beside the chart has every count), in the page's SVG and in every download."""

import itertools

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from analysis import charts

# The symptom counts of the imported study (top category, count, children).
STUDY = [
    ("Crash", 295, [("Assertion Failure", 12), ("CUDA Error", 96), ("Cluster Component Crash", 8),
                    ("Other Crashes", 40), ("Process Killed", 9), ("Value-related Error", 130)]),
    ("Hang", 19, [("Fine-tuning Process Stuck", 7), ("Generation Process Stuck", 12)]),
    ("Incorrect Functionality", 88, [("Fine-tuning Anomaly", 30),
                                     ("Generation Quality Anomaly", 58)]),
    ("Loading Failure", 61, [("Model Loading Error", 45), ("Tokenizer Loading Error", 16)]),
    ("Poor Performance", 27, [("Slow Fine-tuning Speed", 9), ("Slow Inference Speed", 14),
                              ("Slow Loading Speed", 4)]),
]  # fmt: skip


def label_boxes(figure):
    """Each drawn label of the chart's axes with its extent on the canvas."""
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    (ax,) = figure.axes
    return [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_visible()]


def collisions(boxes):
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


@pytest.mark.parametrize("fmt", sorted(charts.FORMATS))
def test_treemap_labels_of_the_study_do_not_overlap(fmt):
    figure = charts.treemap(STUDY, title="RQ1 · Symptoms")
    assert charts.render(figure, fmt)
    boxes = label_boxes(figure)
    shown = [text for text, _ in boxes]
    assert collisions(boxes) == []
    assert "Crash (295)" in shown  # the large tiles keep their names
    assert "Hang (19)" in shown  # upright in its tall, narrow tile
    assert any(text.startswith("Value-related") for text in shown)


def test_treemap_labels_stay_inside_their_tiles():
    figure = charts.treemap(STUDY)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    (ax,) = figure.axes
    area = ax.get_window_extent(renderer)
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert area.x0 <= box.x0 and box.x1 <= area.x1 + 0.5, text.get_text()
        assert area.y0 <= box.y0 and box.y1 <= area.y1 + 0.5, text.get_text()
