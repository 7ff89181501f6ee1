"""Evidence from a fix's title in the browser (issue #20): drag over the title of the pull
request beside the issue, Alt+E, submit; the span is stored against that fix and drawn
inside its title on reload."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotate.models import AnnotationLabel
from annotate.spans import text_hash
from mining.models import FixLink
from tests.e2e.test_evidence_spans import pick, wait_for_item
from tests.factories import ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")

TITLE = "Free the KV cache 😀 before <b>the next</b> batch"
QUOTE = "KV cache 😀 before"

# The viewport box of the first and last character of `quote` in the element `selector`.
BOXES = """([selector, quote]) => {
  const node = document.querySelector(selector).firstChild;
  const start = node.data.indexOf(quote), end = start + quote.length;
  const box = (from, to) => {
    const range = document.createRange();
    range.setStart(node, from); range.setEnd(node, to);
    const r = range.getBoundingClientRect();
    return { x: r.x, y: r.y, width: r.width, height: r.height };
  };
  return [box(start, start + 1), box(end - 1, end)];
}"""


def test_drag_over_a_fix_title_alt_e_submit_then_highlighted(
    page, live_server, login, project, cast
):
    item = ItemFactory(project=project)
    fix = FixLink.objects.create(
        issue=item.issue,
        kind=FixLink.Kind.CLOSING_PR,
        ref="acme/llm#77",
        number=77,
        url="https://github.com/acme/llm/pull/77",
        title=TITLE,
        state="MERGED",
        merged=True,
    )
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, item)

    # A person's selection: press on the first character of the quote in the title and
    # drag to its last (the title is text; the link is on the ref beside it).
    title = f'.issue-fixes [data-evidence-part="fix-{fix.pk}"]'
    page.locator(title).scroll_into_view_if_needed()
    first, last = page.evaluate(BOXES, [title, QUOTE])
    page.mouse.move(first["x"] + 1, first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(last["x"] + last["width"] / 2, last["y"] + last["height"] / 2, steps=8)
    page.mouse.move(last["x"] + last["width"] - 1, last["y"] + last["height"] / 2, steps=2)
    page.mouse.up()
    assert page.evaluate("() => getSelection().toString()") == QUOTE

    page.locator(".picker[data-dimension=symptom] .picker-search").focus()
    page.keyboard.press("Alt+e")
    symptom = page.locator(".picker[data-dimension=symptom]")
    expect(symptom.locator(".evidence")).to_have_value(QUOTE)
    expect(page.locator("#evidence-status")).to_contain_text(
        f"characters 9–{9 + len(QUOTE)} of the fix #{fix.pk}"
    )
    pick(page, "out of memory")
    pick(page, "gpu memory")
    pick(page, "inference")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".label-done")).to_be_visible()

    label = AnnotationLabel.objects.get(annotator=cast["annotator_a"], dimension__key="symptom")
    assert (label.span_part, label.span_fix, label.span_comment) == ("fix", fix.pk, None)
    assert (label.span_start, label.span_end) == (9, 9 + len(QUOTE))  # the emoji is one
    assert label.span_hash == text_hash(TITLE) and label.evidence == QUOTE

    # Reload: the span is drawn inside the fix's title, and the title stays text.
    page.goto(f"{live_server.url}{reverse('label-item', args=[project.slug, item.pk])}")
    wait_for_item(page, item)
    expect(page.locator(f"{title} mark.evidence-own")).to_have_text(QUOTE)
    expect(page.locator(".issue-fixes .fix-title")).to_have_text(TITLE)
    expect(page.locator(".issue-fixes a.fix-ref")).to_have_attribute(
        "href", "https://github.com/acme/llm/pull/77"
    )
    assert page.locator(".issue-fixes b").count() == 0
