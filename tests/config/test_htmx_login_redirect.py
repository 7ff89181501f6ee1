"""An htmx request without a session is sent to the login page as a page visit, back to the
page the user was on (not to the part that asked)."""

from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from tests.factories import ItemFactory


def test_a_part_asked_for_without_a_session_sends_the_page_to_the_login(client, project):
    page = f"/projects/{project.slug}/label/7/"
    reply = client.get(
        reverse("label-progress", args=[project.slug]),
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?x=1"},
    )
    assert reply.status_code == 200 and reply.content == b""
    target = urlsplit(reply["HX-Redirect"])
    assert target.path == reverse("login")
    assert parse_qs(target.query)["next"] == [f"{page}?x=1"]


def test_without_htmx_the_login_redirect_is_unchanged(client, project):
    reply = client.get(reverse("label-progress", args=[project.slug]))
    assert reply.status_code == 302 and reply["Location"].startswith(reverse("login"))


def test_other_redirects_answered_to_htmx_are_left_alone(client_for, cast, project):
    ItemFactory(project=project)  # the queue's page redirects to it
    reply = client_for(cast["annotator_a"]).get(
        reverse("label-next", args=[project.slug]), headers={"HX-Request": "true"}
    )
    assert reply.status_code == 302 and "HX-Redirect" not in reply
