"""The agreement page in a browser: the main tables at once, the breakdowns fetched by htmx
after, and both again when a filter changes."""

from tests.analysis.conftest import LabelBuilder

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

    def items_paired():
        # The first row is the symptom at level 1; its third cell is n.
        return page.locator("#agreement-summary tbody tr").first.locator("td").nth(2).inner_text()

    assert items_paired() == "4"
    page.locator("#breakdown-batches").wait_for()
    assert "pilot" in page.locator("#breakdown-batches").inner_text()
    page.locator("input[name=exclude_calibration]").check()
    page.wait_for_url("**exclude_calibration=1**")
    page.locator("#breakdown-batches").wait_for()
    assert "pilot" not in page.locator("#breakdown-batches").inner_text()
    assert items_paired() == "3"
    assert page.dialogs == []
