"""Errors in a browser (issue #15, defect 4): a bad filter, a bad view, a page that does not
exist and one the member may not see all answer inside the app's layout and say what to
do; an htmx filter's error lands in the result area and leaves the form in place."""

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


def test_a_missing_project_is_a_404_in_the_layout(page, live_server, login, project):
    login(page, "lead")
    response = page.goto(f"{live_server.url}/projects/no-such-project/agreement/")
    assert response.status == 404
    expect(page.locator("header.topbar a.brand")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator("main")).to_contain_text("No such project.")
    expect(page.locator("main a[href='/']")).to_be_visible()


def test_a_forbidden_page_is_a_403_in_the_layout(page, live_server, login, project):
    login(page, "annotator_a")
    response = page.goto(f"{live_server.url}/projects/{project.slug}/agreement/")
    assert response.status == 403
    expect(page.locator("header.topbar a.brand")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("does not allow this")
    expect(page.locator("main")).to_contain_text("ask")
