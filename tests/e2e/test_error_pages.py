"""Errors in a browser (issue #15, defect 4): a bad filter, a bad view, a page that does not
exist and one the member may not see all answer inside the app's layout and say what to
do; an htmx filter's error lands in the result area and leaves the form in place."""

import pytest
from playwright.sync_api import expect


def test_a_bad_labels_filter_answers_inside_the_result_area(page, live_server, login, project):
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/")
    page.fill("#id_source", "annotator:nobody")
    page.locator("#id_source").dispatch_event("change")
    error = page.locator("#panel [role=alert]")
    expect(error).to_contain_text("annotator:nobody")
    # The page around the result stays: heading, filters and project navigation.
    expect(page.get_by_role("heading", name="Distributions", exact=True)).to_be_visible()
    expect(page.locator("#dist-filters")).to_be_visible()
    expect(page.locator("nav.project-nav")).to_be_visible()
    expect(page.locator("#panel")).to_contain_text("final")


def test_a_refused_labels_filter_answers_inside_the_result_area(page, live_server, login, project):
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/")
    page.fill("#id_source", "annotator:annotator_b")
    page.locator("#id_source").dispatch_event("change")
    expect(page.locator("#panel [role=alert]")).to_contain_text("only their own labels")
    expect(page.locator("#panel ul.choices a")).to_have_count(2)
    expect(page.locator("#dist-filters")).to_be_visible()


def test_a_bad_view_lists_the_valid_views_as_links(page, live_server, login, project):
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/?view=rq9")
    expect(page.locator("nav.project-nav")).to_be_visible()
    expect(page.locator("[role=alert]")).to_contain_text("view=rq9")
    choices = page.locator("ul.choices a")
    expect(choices).to_have_count(7)
    expect(choices.first).to_have_text("RQ1 · Symptoms")
    choices.first.click()
    page.wait_for_url("**view=rq1**")
    expect(page.locator("#panel h2").first).to_have_text("RQ1 · Symptoms")


@pytest.mark.parametrize(
    "who, path, status, heading, said",
    [
        ("lead", "/projects/no-such-project/agreement/", 404, "Page not found", "No such project."),
        ("annotator_a", "/projects/{slug}/agreement/", 403, "Not allowed", "does not allow this"),
    ],
)
def test_a_missing_or_forbidden_page_answers_in_the_layout(
    page, live_server, login, project, who, path, status, heading, said
):
    login(page, who)
    response = page.goto(live_server.url + path.format(slug=project.slug))
    assert response.status == status
    expect(page.locator("header.topbar a.brand")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("main [role=alert]")).to_contain_text(said)
    # What to do: a way on, and for a refusal whom to ask.
    expect(page.locator("main ul.choices a[href='/']")).to_be_visible()
    if status == 403:
        expect(page.locator("main")).to_contain_text("ask the project's owner or a lead")
