"""The discussion inbox in the browser (issue #15): the whole loop of an item sent back for
discussion, the decision form's Post/Redirect/Get after an error, and the lead's type-ahead
category picker."""

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from annotate.models import DiscussionMessage, FinalLabel, Item
from tests.builders import ASSERTION, DEVICE, OOM, category, in_conflict, record
from tests.e2e.test_labeling import wait_for_item

NOTE = "Both read the trace differently: look at the first line again."


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def scrolls_sideways(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_the_discussion_loop(page, live_server, login, project, cast, axe_violations):
    """Lead sends back with a note → the annotator sees the badge and the note → replies →
    revises → sees the confirmation → the lead sees the reply and the revision."""
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    base = f"{live_server.url}/projects/{project.slug}"
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "lead")
    page.goto(f"{base}/conflicts/{item.pk}/")
    page.fill("input[name=note]", NOTE)
    page.click("#start-discussion")
    expect(page.locator("#item-state")).to_have_text("in discussion")
    expect(page.locator("#thread")).to_contain_text(NOTE)

    login(page, "annotator_a")
    page.goto(f"{base}/")
    expect(page.locator("#inbox-badge")).to_contain_text("1")
    page.click("#nav-inbox")
    row = page.locator(f"#inbox-{item.pk}")
    expect(row).to_contain_text(NOTE)
    expect(row.locator("[data-status=awaiting]")).to_be_visible()
    assert axe_violations(page) == [] and not scrolls_sideways(page)
    row.locator("a.open-discussion").click()
    expect(page.locator("#thread")).to_contain_text(NOTE)
    expect(page.locator("#thread")).to_contain_text("lead (lead)")
    assert axe_violations(page) == [] and not scrolls_sideways(page)
    page.keyboard.press("m")  # jumps to the reply
    expect(page.locator("#thread-body")).to_be_focused()
    page.keyboard.type("I took the OOM from the title; the trace says device.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#thread .thread-entry").last).to_contain_text("the trace says device")
    expect(page.locator("#thread .thread-entry").last).to_contain_text("You")
    assert page.url.endswith("#discussion-thread")

    page.click("#revise-link")
    wait_for_item(page, item)
    page.keyboard.type("device error")  # the symptom picker has the focus
    page.keyboard.press("Enter")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#revision-saved")).to_contain_text(f"#{item.issue.number} is saved")
    page.goto(f"{base}/inbox/")
    expect(page.locator("#inbox-badge")).to_have_count(0)  # revised, and nothing unread

    login(page, "lead")
    page.goto(f"{base}/")
    expect(page.locator("#inbox-badge")).to_contain_text("1")
    page.goto(f"{base}/conflicts/{item.pk}/")
    thread = page.locator("#thread")
    expect(thread).to_contain_text("the trace says device")
    expect(thread.locator(".thread-entry[data-kind=revised]")).to_contain_text("annotator_a")
    expect(thread.locator(".unread")).to_have_count(2)  # the reply and the revision are new
    assert axe_violations(page) == [] and not scrolls_sideways(page)
    # A and B now agree: closing the discussion settles the item.
    page.click("#end-discussion")
    expect(page.locator("#item-state")).to_have_text("settled")
    assert Item.objects.get(pk=item.pk).state == Item.State.SETTLED
    assert FinalLabel.objects.get(item=item).provenance == "unanimous"
    kinds = list(DiscussionMessage.objects.filter(item=item).values_list("kind", flat=True))
    assert kinds == ["sent_back", "message", "revised"]


def test_a_decision_error_redirects_back_with_the_form_kept(
    page, live_server, login, project, cast
):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    url = f"{live_server.url}/projects/{project.slug}/conflicts/{item.pk}/"
    login(page, "lead")
    page.goto(url)
    assertion = str(category(project, "symptom", ASSERTION).pk)
    page.select_option("#r0-symptom", assertion)  # overrides both: a rationale is required
    page.select_option("#error-kind", "codebook_gap")
    page.click("#decide")
    expect(page.locator("#decision-error")).to_contain_text("rationale is required")
    assert page.url == url  # not the POST URL
    assert page.locator("#r0-symptom").input_value() == assertion
    expect(page.locator("#r0-symptom-search")).to_have_value(ASSERTION)
    assert page.locator("#error-kind").input_value() == "codebook_gap"
    page.reload()  # a plain GET: no resubmission, and the error was shown once
    expect(page.locator("#decision-error")).to_have_count(0)
    assert page.dialogs == []
    assert not FinalLabel.objects.filter(item=item).exists()


def test_the_decision_forms_picker_types_ahead(
    page, live_server, login, project, cast, axe_violations
):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/{item.pk}/")
    page.wait_for_selector("#r0-symptom-search[role=combobox]")
    page.keyboard.press("j")  # the symptom dimension
    page.keyboard.press("e")  # type a category for it
    search = page.locator("#r0-symptom-search")
    expect(search).to_be_focused()
    listbox = page.locator("#r0-symptom-options")
    expect(listbox).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")

    page.keyboard.type("crash cuda")
    shown = listbox.locator("li[role=option]:visible")
    texts = shown.all_inner_texts()
    assert texts and all("CUDA" in t for t in texts) and len(texts) < 10
    first = search.get_attribute("aria-activedescendant")
    assert first == shown.first.get_attribute("id")
    page.keyboard.press("ArrowDown")
    second = search.get_attribute("aria-activedescendant")
    assert second != first and page.locator(f"#{second}").get_attribute("aria-selected") == "true"
    assert axe_violations(page) == []  # with the list open
    chosen = page.locator(f"#{second}").inner_text()
    page.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(search).to_have_value(chosen)
    assert page.locator("#r0-symptom option:checked").inner_text() == chosen
    assert page.url.endswith(f"/conflicts/{item.pk}/")  # Enter picked, it did not submit

    # Escape restores; taking a side (2) shows through the picker.
    search.focus()
    page.keyboard.type("zzz no such category")
    page.keyboard.press("Escape")
    expect(search).to_have_value(chosen)
    page.keyboard.press("Escape")  # leaves the field
    page.keyboard.press("2")
    expect(search).to_have_value(DEVICE)
    # A new record (a split) gets pickers of its own.
    page.click("[data-add-record]")
    expect(page.locator("#r1-symptom-search[role=combobox]")).to_have_count(1)
    page.locator("#r1-symptom-search").click()
    page.keyboard.type("assertion")
    page.keyboard.press("Enter")
    assert page.locator("#r1-symptom option:checked").inner_text() == ASSERTION
    assert re.fullmatch(r"\d+", page.locator("#r1-symptom").input_value())
