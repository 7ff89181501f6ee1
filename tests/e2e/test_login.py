from tests.factories import UserFactory


def test_user_logs_in_and_sees_their_projects(page, live_server, login, project, cast):
    login(page, "annotator_a")
    assert page.locator("h1").inner_text() == "Your projects"
    assert page.locator("table.projects").inner_text().count("LLM failures") == 1


def test_wrong_password_is_refused(page, live_server, transactional_db):
    UserFactory(username="someone")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "someone")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert "didn't match" in page.content()


def test_pages_ask_for_no_missing_file(page, live_server, login, project, cast):
    """Every page names its icon, so the browser no longer asks for /favicon.ico and logs a
    404 on every page (issue #15, defect 10); no other request of the page fails either."""
    failed = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.wait_for_load_state("networkidle")
    assert failed == []
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{icon}").status == 200
