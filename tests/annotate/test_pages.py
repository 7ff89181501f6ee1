import pytest
from django.urls import reverse

from annotate.models import Membership, Role
from tests.factories import ItemFactory

PAGES = ["project-detail", "codebook", "project-settings"]


def test_anonymous_is_sent_to_login(client, project):
    for name in ["home", *PAGES]:
        kwargs = {} if name == "home" else {"slug": project.slug}
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("user", "detail", "codebook", "settings"),
    [
        ("owner", 200, 200, 200),
        ("lead", 200, 200, 403),
        ("annotator_a", 200, 200, 403),
        ("outsider", 404, 404, 404),
    ],
)
def test_project_pages_check_membership_and_role(
    client_for, project, cast, user, detail, codebook, settings
):
    client = client_for(cast[user])
    slug = project.slug
    assert client.get(reverse("project-detail", args=[slug])).status_code == detail
    assert client.get(reverse("codebook", args=[slug])).status_code == codebook
    assert client.get(reverse("project-settings", args=[slug])).status_code == settings


def test_home_lists_only_my_projects_with_progress(
    client_for, project, cast, django_assert_max_num_queries
):
    ItemFactory.create_batch(3, project=project)
    ItemFactory(project=project, state="settled")
    client = client_for(cast["annotator_a"])
    with django_assert_max_num_queries(6):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "LLM failures" in content
    assert "25%" in content
    assert (
        client_for(cast["outsider"]).get(reverse("home")).content.decode().count("LLM failures")
        == 0
    )


def test_codebook_page_shows_the_category_tree(client_for, project, cast):
    response = client_for(cast["annotator_a"]).get(reverse("codebook", args=[project.slug]))
    content = response.content.decode()
    for text in ["Symptom", "Root cause", "Stage", "Out of Memory", "Generation Quality Anomaly"]:
        assert text in content


def test_owner_invites_a_member_and_sees_the_link_once(client_for, project, cast):
    url = reverse("project-settings", args=[project.slug])
    response = client_for(cast["owner"]).post(
        url, {"invite": "1", "username": "newcomer", "role": "annotator"}
    )
    assert response.status_code == 200
    assert 'id="invitation-link">http://testserver/invitations/' in response.content.decode()
    assert not Membership.objects.filter(project=project, user__username="newcomer").exists()
    assert "invitation-link" not in client_for(cast["owner"]).get(url).content.decode()


def test_owner_changes_settings(client_for, project, cast):
    response = client_for(cast["owner"]).post(
        reverse("project-settings", args=[project.slug]),
        {
            "save_settings": "1",
            "name": "Renamed",
            "description": "",
            "guidelines": "# Be careful",
            "overlap": 3,
            "assignment_timeout_minutes": 30,
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.overlap, project.guidelines) == ("Renamed", 3, "# Be careful")


def test_overlap_out_of_range_is_refused(client_for, project, cast):
    response = client_for(cast["owner"]).post(
        reverse("project-settings", args=[project.slug]),
        {"save_settings": "1", "name": "X", "overlap": 0, "assignment_timeout_minutes": 30},
    )
    assert "Overlap must be between 1 and 10" in response.content.decode()
    project.refresh_from_db()
    assert project.overlap == 2


def test_owner_changes_a_role_with_htmx(client_for, project, cast):
    membership = Membership.objects.get(project=project, user=cast["annotator_a"])
    response = client_for(cast["owner"]).post(
        reverse("member-update", args=[project.slug, membership.pk]),
        {"role": "lead"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="members"' in response.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.LEAD


def test_the_last_owner_cannot_be_removed(client_for, project, cast):
    membership = Membership.objects.get(project=project, user=cast["owner"])
    client_for(cast["owner"]).post(
        reverse("member-update", args=[project.slug, membership.pk]), {"remove": "1"}
    )
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_non_owner_cannot_change_roles(client_for, project, cast):
    membership = Membership.objects.get(project=project, user=cast["annotator_a"])
    response = client_for(cast["lead"]).post(
        reverse("member-update", args=[project.slug, membership.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.ANNOTATOR


def test_guidelines_are_rendered_sanitized(client_for, project, cast):
    project.guidelines = "**Bold** <script>alert(1)</script> [x](javascript:alert(2))"
    project.save()
    content = (
        client_for(cast["annotator_a"])
        .get(reverse("project-detail", args=[project.slug]))
        .content.decode()
    )
    assert "<strong>Bold</strong>" in content
    assert "<script>alert(1)" not in content
    assert 'href="javascript' not in content


def test_admin_lists_work_for_staff(client_for, project, cast):
    ItemFactory(project=project)
    cast["owner"].is_staff = cast["owner"].is_superuser = True
    cast["owner"].save()
    client = client_for(cast["owner"])
    for model in [
        "annotate/project",
        "annotate/item",
        "annotate/category",
        "mining/issue",
        "mining/repository",
        "annotate/annotation",
        "annotate/finallabel",
    ]:
        assert client.get(f"/admin/{model}/").status_code == 200, model


def test_annotators_do_not_see_per_state_counts(client_for, project, cast):
    ItemFactory(project=project, state="conflict")
    ItemFactory(project=project, state="settled")
    url = reverse("project-detail", args=[project.slug])
    annotator_page = client_for(cast["annotator_a"]).get(url).content.decode()
    assert "conflict" not in annotator_page
    assert "1 of 2 items settled" in annotator_page
    assert "conflict" in client_for(cast["lead"]).get(url).content.decode()
