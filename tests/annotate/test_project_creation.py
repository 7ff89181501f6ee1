"""Who may create projects: staff by default (page and API); PROJECT_CREATION=everyone opens
it to every signed-in user. Concurrent duplicates: one project, the others a clear 4xx."""

import threading

import pytest
import requests
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotate.models import Membership, Project, Role
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="root", is_staff=True)


def test_a_signed_in_user_cannot_create_a_project_through_the_api(cast, api_for):
    response = api_for(cast["outsider"]).post(
        reverse("api-projects"), {"name": "Mine", "slug": "mine"}, format="json"
    )
    assert response.status_code == 403
    assert "staff" in response.json()["detail"]
    assert not Project.objects.filter(slug="mine").exists()


def test_staff_create_projects_and_own_them(staff, api_for):
    response = api_for(staff).post(
        reverse("api-projects"), {"name": "Mine", "slug": "mine"}, format="json"
    )
    assert response.status_code == 201 and response.json()["role"] == "owner"
    assert Membership.objects.get(project__slug="mine").user == staff


def test_the_setting_opens_project_creation_to_everyone(cast, api_for, settings):
    settings.PROJECT_CREATION = "everyone"
    response = api_for(cast["outsider"]).post(
        reverse("api-projects"), {"name": "Mine", "slug": "mine"}, format="json"
    )
    assert response.status_code == 201


def test_the_new_project_page_is_for_staff(cast, staff, client_for):
    url = reverse("project-create")
    assert client_for(cast["outsider"]).get(url).status_code == 403
    refused = client_for(cast["outsider"]).post(url, {"name": "Mine", "slug": "mine"})
    assert refused.status_code == 403 and not Project.objects.filter(slug="mine").exists()
    response = client_for(staff).post(url, {"name": "Mine", "slug": "mine"})
    assert response.status_code == 302 and response["Location"] == "/projects/mine/"
    assert Project.objects.get(slug="mine").memberships.get().role == Role.OWNER
    again = client_for(staff).post(url, {"name": "Again", "slug": "mine"})
    assert again.status_code == 400 and b"already exists" in again.content


def test_home_offers_new_project_only_where_allowed(cast, staff, client_for):
    assert b"New project" not in client_for(cast["outsider"]).get("/").content
    assert b"New project" in client_for(staff).get("/").content


def race(url, headers, bodies):
    """POST each body at once from its own thread (own connection); the replies."""
    barrier = threading.Barrier(len(bodies))
    replies = [None] * len(bodies)

    def post(n):
        session = requests.Session()
        barrier.wait()
        replies[n] = session.post(url, json=bodies[n], headers=headers, timeout=30)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_projects_make_one_and_clear_4xx(live_server, fresh_cache):
    staff = UserFactory(username="root", is_staff=True)
    token = Token.objects.create(user=staff).key
    body = {"name": "Race", "slug": "race"}
    replies = race(
        f"{live_server.url}/api/projects/", {"Authorization": f"Token {token}"}, [body] * 6
    )
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(201) == 1, statuses
    assert all(s in (400, 409) for s in statuses if s != 201), statuses
    for reply in replies:
        if reply.status_code != 201:
            assert "already exists" in reply.json()["detail"]
    assert Project.objects.filter(slug="race").count() == 1
    assert Membership.objects.filter(project__slug="race").count() == 1


# --- the codebook a new project starts with (issue #15: projects from the browser) ---------
def codebook_of(slug):
    from annotate.models import Category, Dimension

    dimensions = list(Dimension.objects.filter(project__slug=slug).values_list("key", flat=True))
    return dimensions, Category.objects.filter(dimension__project__slug=slug).count()


def test_the_page_offers_the_study_codebook_or_an_empty_one(staff, client_for):
    client = client_for(staff)
    page = client.get(reverse("project-create")).content.decode()
    assert 'type="radio" name="codebook" value="study"' in page and "checked" in page
    assert "An empty codebook: the three dimensions" in page

    assert (
        client.post(
            reverse("project-create"), {"name": "Own taxonomy", "slug": "own", "codebook": "empty"}
        ).status_code
        == 302
    )
    assert codebook_of("own") == (["symptom", "root_cause", "stage"], 0)
    assert (
        client.post(
            reverse("project-create"), {"name": "Replication", "slug": "rep", "codebook": "study"}
        ).status_code
        == 302
    )
    dimensions, categories = codebook_of("rep")
    assert dimensions == ["symptom", "root_cause", "stage"] and categories > 50
    # A fresh project's owner is shown where to go next.
    detail = client.get(reverse("project-detail", args=["own"])).content.decode()
    assert 'id="getting-started"' in detail
    assert reverse("dataset-import", args=["own"]) in detail


def test_an_unknown_codebook_is_refused_and_creates_nothing(staff, client_for, api_for):
    response = client_for(staff).post(
        reverse("project-create"), {"name": "Mine", "slug": "mine", "codebook": "mystery"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    api = api_for(staff).post(
        reverse("api-projects"), {"name": "Mine", "slug": "mine", "codebook": "x"}, format="json"
    )
    assert api.status_code == 400 and "codebook" in api.json()["fields"]
    assert not Project.objects.filter(slug="mine").exists()


def test_the_api_creates_a_project_with_an_empty_codebook(staff, api_for):
    response = api_for(staff).post(
        reverse("api-projects"),
        {"name": "Mine", "slug": "mine", "codebook": "empty"},
        format="json",
    )
    assert response.status_code == 201
    assert codebook_of("mine") == (["symptom", "root_cause", "stage"], 0)
