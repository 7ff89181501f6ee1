"""An annotator labels three items by keyboard alone; a second annotator labels the same
items blind; scripts in issue bodies never run."""

import pytest
from playwright.sync_api import expect

from annotate.models import Annotation, Item
from tests.factories import IssueFactory, ItemFactory

XSS_BODY = (
    "It crashes.\n\n<script>alert('script ran')</script>\n\n"
    "<img src=x onerror=\"alert('onerror ran')\">\n\n[click](javascript:alert('link ran'))\n\n"
    "```\nRuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n```"
)
SECRET_NOTE = "first annotator private note"


pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def three_items(project):
    return [
        ItemFactory(project=project, issue=IssueFactory(title="OOM when loading", body=XSS_BODY)),
        ItemFactory(project=project, issue=IssueFactory(title="Two problems at once")),
        ItemFactory(project=project, issue=IssueFactory(title="Feature request: docs")),
    ]


def wait_for_item(page, item):
    # data-ready: label.js has set the new item up (focus, pickers, draft).
    page.wait_for_selector(f'#workspace[data-item="{item.pk}"][data-ready] #label-form')


def pick(page, query):
    """Type into the focused picker's search and take the first match with Enter."""
    page.keyboard.type(query)
    page.keyboard.press("Enter")


def label_record(page, symptom, root_cause, stage):
    pick(page, symptom)
    pick(page, root_cause)
    pick(page, stage)


def test_annotators_label_by_keyboard_blind_and_scripts_never_run(
    browser, page, live_server, login, project, cast, three_items
):
    first, second, third = three_items
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    assert "OOM when loading" in page.inner_text(".issue-title")

    # Item 1: one failure; evidence taken from a selection in the issue.
    page.evaluate(
        """() => {
            const code = document.querySelector('.issue-body pre code');
            const range = document.createRange();
            range.selectNodeContents(code);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }"""
    )
    page.keyboard.press("Alt+e")
    page.keyboard.type("out of memory")
    page.keyboard.press("1")  # the first match, by number
    pick(page, "gpu memory")
    pick(page, "inference")
    page.keyboard.press("Alt+n")
    page.keyboard.type(SECRET_NOTE)
    page.keyboard.press("Alt+c")
    page.keyboard.press("4")
    page.keyboard.press("Control+Enter")
    wait_for_item(page, second)
    # The counts follow the swapped-in item (loaded after it, issue #15's speed).
    expect(page.locator("#label-progress")).to_contain_text("You: 1 today · 1 in total")
    expect(page.locator("#label-progress")).to_contain_text("Project: 0 of 3 items settled")

    # Item 2: two failure records; the draft survives a reload half-way.
    label_record(page, "out of memory", "gpu memory", "inference")
    page.keyboard.press("Alt+a")
    pick(page, "hang")
    page.reload()
    wait_for_item(page, second)
    assert page.locator(".record").count() == 2
    assert page.locator('.record[data-record="1"] .picked').first.inner_text() == "Hang"
    page.keyboard.press("Alt+p")  # focus lands on the first unpicked picker
    pick(page, "cpu memory")
    pick(page, "fine-tuning")
    page.keyboard.press("Control+Enter")
    wait_for_item(page, third)

    # Item 3: out of scope, with a reason.
    page.keyboard.press("?")
    expect(page.locator("#guidelines")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#guidelines")).to_be_hidden()
    page.keyboard.press("Alt+o")
    page.keyboard.type("a feature request, not a failure")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector(".label-done")

    mine = {a.item_id: a for a in Annotation.objects.filter(annotator=cast["annotator_a"])}
    assert set(mine) == {first.pk, second.pk, third.pk}
    one = mine[first.pk]
    assert (one.note, one.confidence) == (SECRET_NOTE, 4)
    symptom = one.labels.get(dimension__key="symptom")
    assert symptom.category.path == "Crash > CUDA Error > Out of Memory"
    assert "CUDA out of memory" in symptom.evidence
    two = mine[second.pk].labels.order_by("record", "dimension__order")
    assert [label.category.path.split(" > ")[-1] for label in two] == [
        "Out of Memory",
        "GPU Memory Insufficiency",
        "Inference",
        "Hang",
        "CPU Memory Limitation",
        "Fine-tuning",
    ]
    assert mine[third.pk].out_of_scope
    assert mine[third.pk].out_of_scope_reason == "a feature request, not a failure"

    # The second annotator gets the same items and sees nothing of the first's labels.
    context = browser.new_context(viewport={"width": 1366, "height": 850})
    other = context.new_page()
    other.dialogs = []
    other.on("dialog", lambda dialog: (other.dialogs.append(dialog.message), dialog.dismiss()))
    login(other, "annotator_b")
    other.goto(f"{live_server.url}/projects/{project.slug}/label/")
    for item in (first, second, third):
        wait_for_item(other, item)
        html = other.content()
        assert SECRET_NOTE not in html
        assert "a feature request, not a failure" not in html
        assert "CUDA out of memory. Tried" not in other.input_value(".evidence >> nth=0")
        assert other.locator(".picker.done").count() == 0
        assert other.locator(".record").count() == 1
        label_record(other, "hang", "tokenization error", "inference")
        other.keyboard.press("Control+Enter")
    other.wait_for_selector(".label-done")
    other.goto(f"{live_server.url}/projects/{project.slug}/label/mine/")
    assert SECRET_NOTE not in other.content()
    assert "not settled yet" in other.content()
    context.close()

    assert Item.objects.filter(state=Item.State.CONFLICT).count() == 3
    assert page.dialogs == [] and other.dialogs == []
