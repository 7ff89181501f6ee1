"""Owners add people by single-use, expiring invitation links: nobody becomes a member
without accepting, the members API mints no accounts and does not tell whether a username
exists, and a used, expired or revoked link answers a clear page."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from annotate.models import Invitation, Membership, Role
from annotate.projects import services
from tests.annotate.test_project_creation import race
from tests.factories import UserFactory

User = get_user_model()


def invite(project, cast, **fields):
    fields.setdefault("role", Role.ANNOTATOR)
    return services.invite_member(project=project, created_by=cast["owner"], **fields)


def link(token):
    return reverse("invitation", args=[token])


def test_members_api_answers_alike_for_existing_and_unknown_usernames(project, cast, api_for):
    url = reverse("api-members", args=[project.slug])
    users_before = User.objects.count()
    client = api_for(cast["owner"])
    known = client.post(url, {"username": "outsider", "role": "lead"}, format="json")
    unknown = client.post(url, {"username": "nobody-here", "role": "lead"}, format="json")
    assert known.status_code == unknown.status_code == 201
    shape = {k: v for k, v in known.json().items() if k not in ("id", "url", "username")}
    other = {k: v for k, v in unknown.json().items() if k not in ("id", "url", "username")}
    assert set(known.json()) == set(unknown.json())
    assert {**shape, "created_at": 0, "expires_at": 0} == {
        **other,
        "created_at": 0,
        "expires_at": 0,
    }
    assert "one_time_password" not in known.json()
    assert known.json()["url"].startswith("http://testserver/invitations/")
    # No account minted, nobody joined without accepting.
    assert User.objects.count() == users_before
    assert not Membership.objects.filter(project=project, user=cast["outsider"]).exists()


def test_the_stored_invitation_holds_only_a_hash_of_its_token(project, cast):
    invitation, token = invite(project, cast)
    assert token not in invitation.token_hash and len(token) >= 40
    assert Invitation.objects.filter(token_hash=Invitation.hash_token(token)).exists()


def test_a_signed_in_user_accepts_and_joins_with_the_invited_role(project, cast, client_for):
    _, token = invite(project, cast, role=Role.LEAD)
    client = client_for(cast["outsider"])
    page = client.get(link(token))
    assert page.status_code == 200 and b"Join the project" in page.content
    response = client.post(link(token))
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.slug}/"
    assert Membership.objects.get(project=project, user=cast["outsider"]).role == Role.LEAD
    used = client_for(cast["outsider"]).get(link(token))
    assert used.status_code == 410 and b"already been used" in used.content
    again = UserFactory(username="latecomer")
    assert client_for(again).post(link(token)).status_code == 410
    assert not Membership.objects.filter(project=project, user=again).exists()


def test_a_visitor_signs_up_through_the_link_with_password_rules(project, cast, client):
    _, token = invite(project, cast)
    assert b"Create account and join" in client.get(link(token)).content
    weak = client.post(link(token), {"username": "newbie", "password1": "123", "password2": "123"})
    assert weak.status_code == 400 and b"too short" in weak.content
    assert not User.objects.filter(username="newbie").exists()
    taken = client.post(
        link(token),
        {"username": "outsider", "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42"},
    )
    assert taken.status_code == 400
    good = client.post(
        link(token),
        {"username": "newbie", "password1": "a-Strong-pass-42", "password2": "a-Strong-pass-42"},
    )
    assert good.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert newbie.check_password("a-Strong-pass-42")
    assert Membership.objects.get(project=project, user=newbie).role == Role.ANNOTATOR
    assert client.get(f"/projects/{project.slug}/").status_code == 200  # signed in


def test_expired_revoked_and_unknown_links_answer_clearly(project, cast, client_for, api_for):
    expired, expired_token = invite(project, cast, username="x1")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    revoked, revoked_token = invite(project, cast, username="x2")
    response = api_for(cast["owner"]).delete(
        reverse("api-invitation", args=[project.slug, revoked.pk])
    )
    assert response.status_code == 204
    client = client_for(cast["outsider"])
    page = client.get(link(expired_token))
    assert page.status_code == 410 and b"expired" in page.content
    assert client.post(link(expired_token)).status_code == 410
    page = client.get(link(revoked_token))
    assert page.status_code == 410 and b"revoked" in page.content
    assert client.get(link("not-a-token")).status_code == 404
    assert not Membership.objects.filter(project=project, user=cast["outsider"]).exists()


def test_an_addressed_invitation_is_for_that_account_only(project, cast, client_for):
    _, token = invite(project, cast, username="annotator_a")
    refused = client_for(cast["outsider"]).post(link(token))
    assert refused.status_code == 400 and b"addressed to another account" in refused.content
    assert not Membership.objects.filter(project=project, user=cast["outsider"]).exists()


def test_owners_list_and_revoke_pending_invitations(project, cast, api_for):
    kept, _ = invite(project, cast, username="keep")
    gone, _ = invite(project, cast, email="Gone@Example.org")
    url = reverse("api-invitations", args=[project.slug])
    client = api_for(cast["owner"])
    listed = client.get(url).json()["results"]
    assert {i["id"] for i in listed} == {kept.pk, gone.pk}
    assert all("token" not in str(i) and "url" not in i for i in listed)
    client.delete(reverse("api-invitation", args=[project.slug, gone.pk]))
    assert [i["id"] for i in client.get(url).json()["results"]] == [kept.pk]
    assert api_for(cast["lead"]).get(url).status_code == 403
    created = client.post(url, {"role": "lead"}, format="json")
    assert created.status_code == 201 and created.json()["username"] == ""


def test_settings_page_creates_lists_and_revokes_invitations(project, cast, client_for):
    client = client_for(cast["owner"])
    url = reverse("project-settings", args=[project.slug])
    response = client.post(url, {"invite": "1", "role": "lead", "username": "zoe"})
    assert response.status_code == 200 and b"/invitations/" in response.content
    invitation = Invitation.objects.get(project=project, username="zoe")
    assert b"zoe" in client.get(url).content
    client.post(reverse("invitation-revoke", args=[project.slug, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    bad = client.post(url, {"invite": "1", "role": "boss"})
    assert bad.status_code == 400 and not Invitation.objects.filter(role="boss").exists()


def test_a_second_open_invitation_to_the_same_name_is_409(project, cast, api_for):
    url = reverse("api-members", args=[project.slug])
    client = api_for(cast["owner"])
    assert client.post(url, {"username": "zoe", "role": "lead"}, format="json").status_code == 201
    again = client.post(url, {"username": "zoe", "role": "lead"}, format="json")
    assert again.status_code == 409 and "exists already" in again.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_invitations_make_one_and_clear_409(live_server, fresh_cache):
    owner = UserFactory(username="boss")
    project = services.create_project(name="Race", slug="race", owner=owner)
    token = Token.objects.create(user=owner).key
    replies = race(
        f"{live_server.url}/api/projects/race/members/",
        {"Authorization": f"Token {token}"},
        [{"username": "zoe", "role": "annotator"}] * 6,
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201, 409, 409, 409, 409, 409], statuses
    assert Invitation.objects.filter(project=project, username="zoe").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_through_one_link_make_one_member(live_server, fresh_cache):
    owner = UserFactory(username="boss")
    project = services.create_project(name="Race", slug="race", owner=owner)
    _, token = services.invite_member(project=project, role=Role.ANNOTATOR, created_by=owner)
    # Each visitor fetches the page first for a CSRF cookie, then all post at once.
    import threading

    import requests

    url = f"{live_server.url}{link(token)}"
    sessions = []
    for _ in range(5):
        session = requests.Session()
        session.get(url, timeout=30)
        sessions.append(session)
    barrier = threading.Barrier(len(sessions))
    replies = [None] * len(sessions)

    def post(n):
        body = {
            "username": f"racer{n}",
            "password1": "a-Strong-pass-42",
            "password2": "a-Strong-pass-42",
            "csrfmiddlewaretoken": sessions[n].cookies["csrftoken"],
        }
        barrier.wait()
        replies[n] = sessions[n].post(url, data=body, headers={"Referer": url}, timeout=30)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.history[0].status_code if r.history else r.status_code for r in replies)
    assert statuses == [302, 410, 410, 410, 410], statuses
    assert Membership.objects.filter(project=project).count() == 2  # the owner and one racer
    assert User.objects.filter(username__startswith="racer").count() == 1
