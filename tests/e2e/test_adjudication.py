"""A lead resolves a conflict by keyboard with a rationale; the final label and the
item's history show it."""

from annotate.models import AuditEvent, FinalLabel
from tests.annotate.test_adjudication import (  # noqa: F401 - the autouse fixture applies
    DEVICE,
    OOM,
    fast_password_hashing,
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
    assert f"symptom: {DEVICE}" in page.locator("#final-label").inner_text()
    rows = page.locator("#history tr.event")
    assert rows.count() == AuditEvent.objects.filter(item=item).count() == 2
    assert "adjudicated" in rows.nth(1).inner_text() and "lead" in rows.nth(1).inner_text()
    assert page.dialogs == []
