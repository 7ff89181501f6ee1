"""The agreement page in a browser: the main tables at once, the breakdowns fetched by htmx
after, and both again when a filter changes."""

from playwright.sync_api import expect

from tests.builders import LabelBuilder

OOM = "Crash > CUDA Error > Out of Memory"
HANG = "Hang"


def test_agreement_page_loads_breakdowns_and_follows_filters(
    page, live_server, login, project, cast
):
    labels = LabelBuilder(project)
    plan = [(OOM, OOM), (OOM, HANG), (HANG, HANG), (OOM, OOM)]
    for index, (first, second) in enumerate(plan):
        item = labels.item(calibration=index == 0, batch="pilot" if index == 0 else "")
        labels.annotate(item, cast["annotator_a"], [{"symptom": first}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": second}])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/agreement/")

    # The first row is the symptom at level 1; its third cell is n.
    items_paired = page.locator("#agreement-summary tbody tr").first.locator("td").nth(2)
    batches = page.locator("#breakdown-batches")

    expect(items_paired).to_have_text("4")
    expect(batches).to_contain_text("pilot")
    page.locator("input[name=exclude_calibration]").check()
    page.wait_for_url("**exclude_calibration=1**")
    # Both parts are swapped in by htmx; expect() waits for each.
    expect(items_paired).to_have_text("3")
    expect(batches).to_be_attached()
    expect(batches).not_to_contain_text("pilot")
    assert page.dialogs == []
