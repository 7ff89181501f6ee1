"""Precedents on the conflict page (p opens the next one) and the consistency report, in
Chromium (issue #19)."""

import re

from playwright.sync_api import expect

from tests.annotate.precedents_world import RATIONALE, build


def test_the_lead_opens_a_precedent_by_keyboard_on_the_conflict_page(
    page, live_server, login, project, cast
):
    world = build(project, cast)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/{world['oom_reworded'].pk}/")
    first = page.locator("[data-precedent]").first
    expect(first).to_have_attribute("data-item", str(world["oom"].pk))
    expect(first.locator(".precedent-rationale")).to_be_hidden()
    page.keyboard.press("p")
    expect(first.locator(".precedent-rationale")).to_be_visible()
    expect(first.locator(".precedent-rationale")).to_contain_text(RATIONALE)
    expect(first).to_contain_text("Out of Memory")
    # The unsettled near-identical title is not a precedent.
    expect(
        page.locator(f'[data-precedent][data-item="{world["oom_same_title"].pk}"]')
    ).to_have_count(0)
    page.keyboard.press("p")  # the next one opens (or, past the last, all close)
    expect(first.locator(".precedent-rationale")).to_be_hidden()


def test_the_lead_confirms_a_difference_on_the_consistency_report(
    page, live_server, login, project, cast
):
    world = build(project, cast)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/consistency/?threshold=0.5")
    first, second = sorted((world["hang"].pk, world["hang_reworded"].pk))
    row = page.locator(f'tr[data-pair="{first}-{second}"]')
    expect(row).to_contain_text("symptom")
    expect(page.locator("#consistency-summary")).to_contain_text("1 with differing final labels")
    row.locator("button[data-confirm]").click()
    expect(row).to_contain_text("confirmed by lead")


def test_the_lead_reads_the_report_at_a_threshold_of_their_own(
    page, live_server, login, project, cast
):
    """Any threshold from the page's own field: 0.62 is one (the field's step of 0.05 made
    the browser refuse it, and the report never changed)."""
    build(project, cast)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/consistency/")
    page.fill("#threshold", "0.62")
    page.locator("form.inline-form button").click()
    expect(page).to_have_url(re.compile(r"threshold=0\.62"))
    expect(page.locator("#threshold")).to_have_value("0.62")
