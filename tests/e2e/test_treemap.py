"""The RQ1 treemap on the distributions page with the study's counts (issue #15, defect 3):
no two of its labels cover each other in the browser."""

from playwright.sync_api import expect

from tests.analysis.test_chart_labels import STUDY
from tests.builders import bulk_final_records

CAUSE = "API Usage and Interface Issues - API Compatibility Issues"

# [[x0, y0, x1, y1], ...] of the chart's drawn labels, as the browser laid them out.
LABEL_BOXES = """
(figure) => Array.from(figure.querySelectorAll("svg text"))
  .filter((text) => text.textContent.trim())
  .map((text) => { const r = text.getBoundingClientRect();
                   return [text.textContent, r.left, r.top, r.right, r.bottom]; })
"""


def _study_records():
    records, number = [], 0
    for top, _, children in STUDY:
        for child, count in children:
            for _ in range(count):
                number += 1
                records.append(
                    {
                        "link": f"https://github.com/org/repo/issues/{number}",
                        "SYMPTOM": f"{top} - {child}",
                        "ROOT CAUSE": CAUSE,
                        "STAGE": "Inference",
                        "model": "m",
                        "architecture": "a",
                    }
                )
    return records


def test_rq1_treemap_labels_do_not_overlap_in_the_page(page, live_server, login, project):
    bulk_final_records(project, _study_records())
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/?view=rq1")
    figure = page.locator("#chart-treemap")
    # The chart loads after the page (htmx); a cold one takes seconds on a loaded machine.
    expect(figure.locator("svg")).to_have_count(1, timeout=30_000)
    expect(figure).to_contain_text("Crash (295)")
    expect(figure).to_contain_text("Hang (19)")
    boxes = figure.evaluate(LABEL_BOXES)
    title = "RQ1 · Symptoms"
    boxes = [b for b in boxes if b[0] != title]
    overlapping = [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]
    assert overlapping == []
