"""A pilot, in the browser (issue #17): two annotators propose categories while labeling,
by keyboard; the lead merges their two proposals and promotes the result, the codebook
version rises and both labels follow; saturation shows two batches; the lead switches the
project to the main phase."""

import pytest
from playwright.sync_api import expect

from annotate.models import AnnotationLabel, CategoryProposal
from annotate.opencoding import services
from tests.factories import IssueFactory, ItemFactory

from .test_labeling import label_record, wait_for_item

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def pilot_items(project, cast):
    services.switch_phase(project=project, actor=cast["lead"], phase="pilot")
    project.saturation_batch_size = 1
    project.save(update_fields=["saturation_batch_size"])
    return [
        ItemFactory(project=project, issue=IssueFactory(title="Tokenizer blows up", body="boom")),
        ItemFactory(project=project, issue=IssueFactory(title="OOM at load")),
    ]


def propose_and_label(page, live_server, project, items, name, definition):
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, items[0])
    page.wait_for_selector("#proposal-form", state="attached")
    page.keyboard.press("Alt+k")
    expect(page.locator("#proposal-dimension")).to_be_focused()
    page.keyboard.press("Tab")  # parent: top level
    page.keyboard.press("Tab")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(definition)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#own-proposals")).to_contain_text(name)
    page.keyboard.press("Alt+p")  # back to the pickers: the nearest category meanwhile
    label_record(page, "assertion failure", "call sequence", "inference")
    page.keyboard.press("Control+Enter")
    wait_for_item(page, items[1])
    label_record(page, "out of memory", "gpu memory", "inference")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#workspace[data-ready]")


def test_a_pilot_from_proposals_to_the_main_phase(
    browser, page, live_server, login, project, cast, pilot_items
):
    login(page, "annotator_a")
    propose_and_label(page, live_server, project, pilot_items, "Tokenizer Crash",
                      "The tokenizer raises while encoding.")  # fmt: skip
    page.context.clear_cookies()
    login(page, "annotator_b")
    propose_and_label(page, live_server, project, pilot_items, "Tokenizer failure",
                      "Encoding fails inside the tokenizer.")  # fmt: skip
    assert CategoryProposal.objects.filter(status="open").count() == 2

    page.context.clear_cookies()
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/board/")
    first, second = CategoryProposal.objects.order_by("id")
    card = page.locator(f"#proposal-{first.pk}")
    expect(card).to_contain_text("The tokenizer raises while encoding.")
    card.locator(f"input[name=proposals][value='{second.pk}']").check()
    card.locator("button[name=merge]").click()
    card = page.locator(f"#proposal-{first.pk}")
    expect(card).to_contain_text("merged: “Tokenizer failure”")
    version = project.__class__.objects.get(pk=project.pk).codebook_version
    card.locator("button[name=promote]").click()
    expect(page.locator("#decided")).to_contain_text("promoted into the codebook")
    project.refresh_from_db()
    assert project.codebook_version == version + 1
    labels = AnnotationLabel.objects.filter(item=pilot_items[0], dimension__key="symptom")
    assert {label.category.path for label in labels} == {"Tokenizer Crash"}

    page.goto(f"{live_server.url}/projects/{project.slug}/saturation/?base=1&run=1")
    rows = page.locator("#saturation-table tbody tr")
    expect(rows.filter(has_text="symptom")).to_have_count(2)
    expect(page.locator("#verdict-symptom")).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.slug}/board/")
    page.click("#switch-main")
    expect(page.locator("#phase-name")).to_contain_text("main")
    project.refresh_from_db()
    assert project.phase == "main" and project.main_since_version == project.codebook_version


def test_open_coding_pages_meet_wcag(browser, page, live_server, login, project, cast,
                                     pilot_items, axe_violations):  # fmt: skip
    from tests.builders import LabelBuilder, record

    project.refresh_from_db()
    labels = LabelBuilder(project)
    for item in pilot_items:
        for name in ("annotator_a", "annotator_b"):
            labels.annotate(item, cast[name], [record()])
    services.propose_category(
        project=project, author=cast["annotator_a"], item=pilot_items[0],
        dimension=project.dimensions.get(key="symptom"), name="Tokenizer Crash",
        evidence="boom",
    )  # fmt: skip
    login(page, "lead")
    for path in ("board/", "saturation/?base=1&run=1", "planner/?prevalences=1,1"):
        page.goto(f"{live_server.url}/projects/{project.slug}/{path}")
        assert axe_violations(page) == [], path
