"""In the browser: an owner makes an invitation link on the settings page; a visitor opens
it, signs up and lands in the project; the link then says it was used."""

from annotate.models import Membership


def test_owner_invites_and_a_visitor_signs_up_through_the_link(
    page, browser, live_server, login, project, cast
):
    login(page, "owner")
    page.goto(f"{live_server.url}/projects/{project.slug}/settings/")
    page.select_option("#id_role", "annotator")
    page.click("button[name=invite]")
    link = page.locator("#invitation-link").inner_text()
    assert link.startswith(f"{live_server.url}/invitations/")
    assert "anyone with the link" in page.locator("#invitations").inner_text()

    visitor = browser.new_context().new_page()
    visitor.goto(link)
    visitor.fill("#id_username", "newcomer")
    visitor.fill("#id_password1", "a-Strong-pass-42")
    visitor.fill("#id_password2", "a-Strong-pass-42")
    visitor.click("button[type=submit]")
    visitor.wait_for_url(f"{live_server.url}/projects/{project.slug}/")
    assert "You joined LLM failures" in visitor.content()
    assert Membership.objects.get(project=project, user__username="newcomer").role == "annotator"

    visitor.goto(link)
    assert "already been used" in visitor.content()
    visitor.context.close()
