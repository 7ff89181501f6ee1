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
