"""Evidence as spans and time per item in the browser (issue #15): select text in the
issue, Alt+E, submit; the span is stored in code points, highlighted on reload and, for
the lead, on the conflict page beside the other annotator's; active time counts only while
the page is visible."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from annotate.evidence import IssueText
from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, AnnotationLabel, Item
from annotate.spans import text_hash
from tests.builders import record
from tests.factories import CommentFactory, IssueFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")

BODY = "It dies 😀 at **CUDA out of memory** when 👩‍👩‍👧 users share a GPU.\n\nNo log."

# Select `quote` inside the element `selector` as a person would (the text may cross tags).
SELECT = """([selector, quote]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = []; let text = "";
  while (walker.nextNode()) {
    nodes.push([walker.currentNode, text.length]);
    text += walker.currentNode.data;
  }
  const start = text.indexOf(quote), end = start + quote.length;
  if (start < 0) { throw new Error("not in the text: " + quote); }
  const at = (pos, isEnd) => {
    for (const [node, offset] of nodes) {
      const inside = isEnd ? pos > offset && pos <= offset + node.data.length
                           : pos >= offset && pos < offset + node.data.length;
      if (inside) { return [node, pos - offset]; }
    }
  };
  const range = document.createRange();
  range.setStart(...at(start, false));
  range.setEnd(...at(end, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""


def wait_for_item(page, item):
    page.wait_for_selector(f'#workspace[data-item="{item.pk}"][data-ready] #label-form')


def pick(page, query):
    page.keyboard.type(query)
    page.keyboard.press("Enter")


def test_select_alt_e_submit_then_highlighted_on_reload_and_for_the_lead(
    page, live_server, login, project, cast, axe_violations
):
    issue = IssueFactory(title="OOM 😀 with two users", body=BODY)
    CommentFactory(issue=issue, body="Same 👩‍👩‍👧 here")
    item = ItemFactory(project=project, issue=issue)
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, item)

    # A selection across the emoji and into the bold text, then Alt+E: the symptom picker
    # (focused) takes the quote and its span.
    page.evaluate(SELECT, [".issue-body", "😀 at CUDA out of memory"])
    page.keyboard.press("Alt+e")
    symptom = page.locator(".picker[data-dimension=symptom]")
    expect(symptom.locator(".evidence")).to_have_value("😀 at CUDA out of memory")
    expect(page.locator("#evidence-status")).to_contain_text("characters 8–31 of the body")
    # A selection over two parts is refused, by name, and changes nothing.
    page.evaluate(
        """() => {
            const range = document.createRange();
            range.setStart(document.querySelector('.issue-title').firstChild, 0);
            range.setEnd(document.querySelector('.issue-body p').firstChild, 3);
            getSelection().removeAllRanges(); getSelection().addRange(range);
        }"""
    )
    page.keyboard.press("Alt+e")
    expect(page.locator("#evidence-status")).to_contain_text("within one part of the issue")
    page.evaluate("() => getSelection().removeAllRanges()")
    page.keyboard.press("Alt+p")
    pick(page, "out of memory")
    pick(page, "gpu memory")
    pick(page, "inference")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".label-done")).to_be_visible()

    label = AnnotationLabel.objects.get(annotator=cast["annotator_a"], dimension__key="symptom")
    text = IssueText(project, Item.objects.get(pk=item.pk)).plain("body")
    # Code points: "It dies " is 8, the emoji 1 (2 in UTF-16).
    assert (label.span_part, label.span_start, label.span_end) == ("body", 8, 31)
    assert text[label.span_start : label.span_end] == label.evidence == "😀 at CUDA out of memory"

    # Reload the item: the span is highlighted, and kept in the form for a revision.
    page.goto(f"{live_server.url}{reverse('label-item', args=[project.slug, item.pk])}")
    wait_for_item(page, item)
    marks = page.locator(".issue-body mark.evidence-own")
    expect(marks).to_have_count(2)  # cut at <strong>
    assert "".join(marks.all_inner_texts()) == "😀 at CUDA out of memory"
    assert axe_violations(page) == []

    # annotator_b disagrees, with evidence of their own in the comment.
    b = cast["annotator_b"]
    assert next_item(project=project, user=b).pk == item.pk
    texts = IssueText(project, Item.objects.get(pk=item.pk)).texts()
    part = next(key for key in texts if key.startswith("comment-"))
    quote = "👩‍👩‍👧 here"
    start = texts[part].index(quote)
    hang = record(symptom="Hang > Generation Process Stuck")
    labels = [{"dimension": k, "category": v} for k, v in hang.items()]
    end = start + len(quote)  # the family emoji is five code points
    labels[0].update(evidence=quote, span=f"{part}:{start}:{end}:{text_hash(texts[part])}")
    submit_annotation(project=project, user=b, item=item.pk, records=[labels])
    assert Item.objects.get(pk=item.pk).state == Item.State.CONFLICT

    # The lead sees both sides' spans on the conflict page.
    page.context.clear_cookies()
    login(page, "lead")
    page.goto(f"{live_server.url}{reverse('conflict-detail', args=[project.slug, item.pk])}")
    a_marks = page.locator(".issue-body mark.evidence-a")
    expect(a_marks).to_have_count(2)
    assert a_marks.first.get_attribute("title") == "Annotator A: Symptom"
    expect(page.locator(".comment mark.evidence-b")).to_have_text("👩‍👩‍👧 here")
    assert axe_violations(page) == []


HIDE = """(hidden) => {
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def keep_busy(page, seconds):
    """Input for `seconds`: the pointer moves every half second."""
    for step in range(int(seconds * 2)):
        page.mouse.move(200 + step % 7, 300 + step % 5)
        page.wait_for_timeout(500)


def test_active_time_counts_only_while_the_page_is_visible(page, live_server, login, project):
    item = ItemFactory(project=project)
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, item)
    keep_busy(page, 3)
    page.evaluate(HIDE, True)
    keep_busy(page, 5)  # hidden: neither the time nor this input counts
    page.evaluate(HIDE, False)
    keep_busy(page, 2)
    page.keyboard.press("Alt+p")
    pick(page, "out of memory")
    pick(page, "gpu memory")
    pick(page, "inference")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".label-done")).to_be_visible()
    seconds = Annotation.objects.get(item=item).active_seconds
    # About 5 s visible (3 + 2, and the typing); the 5 s hidden would make it 10 or more.
    assert 4 <= seconds <= 8, seconds
