"""A lead resolves a conflict by keyboard with a rationale; the final label and the
item's history show it."""

import re

from playwright.sync_api import expect

from annotate.models import AuditEvent, FinalLabel
from tests.builders import (
    DEVICE,
    GPU_MEMORY,
    OOM,
    in_conflict,
    record,
)


def test_lead_resolves_a_conflict_by_keyboard(page, live_server, login, project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/")
    assert page.locator("#queue-count").inner_text() == "1"
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/conflicts/{item.pk}/")
    assert page.locator("tr.differs .level.differs").first.inner_text() == "Out of Memory"

    page.keyboard.press("j")  # focus the first dimension: symptom
    page.keyboard.press("2")  # take annotator B's category
    assert page.locator("#r0-symptom option:checked").inner_text() == DEVICE
    page.keyboard.press("r")
    page.keyboard.type("The trace names an illegal device access, not memory.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.slug}/conflicts/")
    assert page.locator("#queue-count").inner_text() == "0"

    final = FinalLabel.objects.get(item=item)
    assert (final.provenance, final.decided_by) == ("adjudicated", cast["lead"])
    assert final.rationale == "The trace names an illegal device access, not memory."
    page.goto(f"{live_server.url}/projects/{project.slug}/items/{item.pk}/history/")
    assert page.locator("#final-provenance").inner_text() == "adjudicated"
    assert "illegal device access" in page.locator("#final-rationale").inner_text()
    assert f"Symptom: {DEVICE}" in page.locator("#final-label").inner_text()
    rows = page.locator("#history tr.event")
    assert rows.count() == AuditEvent.objects.filter(item=item).count() == 2
    assert "adjudicated" in rows.nth(1).inner_text() and "lead" in rows.nth(1).inner_text()
    assert page.dialogs == []


def test_lead_splits_an_issue_into_two_failure_records(page, live_server, login, project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(OOM), record(DEVICE)])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/{item.pk}/")
    assert page.locator("[data-record-block]").count() == 2
    page.locator("[data-remove-record]").nth(1).click()  # merge back to one record
    assert page.locator("[data-record-block]").count() == 1
    page.click("[data-add-record]")  # and split again, by hand
    second = page.locator("[data-record-block]").nth(1)
    second.locator("select[data-dimension=symptom]").select_option(label=DEVICE)
    second.locator("select[data-dimension=root_cause]").select_option(label=GPU_MEMORY)
    second.locator("select[data-dimension=stage]").select_option(label="Inference")
    page.click("#decide")
    page.wait_for_url(f"**/projects/{project.slug}/conflicts/")
    assert page.locator(".messages").inner_text().startswith("Settled")
    final = FinalLabel.objects.get(item=item)
    assert final.labels.values("record").distinct().count() == 2
    assert final.labels.filter(record=1, dimension__key="symptom").get().category.path == DEVICE


def test_conflict_queue_filters_narrow_the_list_and_live_in_the_url(
    page, live_server, login, project, cast
):
    """Choosing a filter keeps the matching items (not "0 matching"), only the chosen
    option is selected, and the filter is in the address bar so a reload keeps it."""
    in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/")
    assert page.locator("#f-pair option[selected]").count() == 0
    page.select_option("#f-dimension", "symptom")
    expect(page).to_have_url(re.compile(r"[?&]dimension=symptom"))
    expect(page.locator("#queue-count")).to_have_text("2")
    page.reload()
    assert page.locator("#f-dimension").input_value() == "symptom"
    assert page.locator("#f-pair option[selected]").count() == 0
    expect(page.locator("#queue-count")).to_have_text("2")
    pair = page.locator("#f-pair option").nth(1).get_attribute("value")
    page.select_option("#f-pair", pair)
    expect(page).to_have_url(re.compile(r"[?&]pair=\d"))
    expect(page.locator("#queue-count")).to_have_text("2")
    page.reload()
    assert page.locator("#f-pair option[selected]").count() == 1
    assert page.locator("#f-pair").input_value() == pair
