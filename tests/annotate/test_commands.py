import pytest
from django.core.management import CommandError, call_command

from annotate.models import (
    Annotation,
    Category,
    FinalLabel,
    Item,
    Membership,
    Project,
)
from mining.models import DEMO_SOURCE, Comment, Issue, ProjectRepository, Repository


def _counts():
    models = (Project, Membership, Item, Issue, Comment, Repository, Annotation, FinalLabel)
    return [model.objects.count() for model in (*models, Category)]


def test_seed_demo_is_idempotent(db, capsys):
    call_command("seed_demo", per_repository=4)
    first = capsys.readouterr().out
    counts = _counts()
    call_command("seed_demo", per_repository=4)
    again = _counts()
    assert counts == again
    assert "alice" in first and "faultline-demo" in first
    project = Project.objects.get()
    assert project.dimensions.count() == 3
    views = ProjectRepository.objects.filter(project=project)
    assert set(views.values_list("group", flat=True)) == {"DeepSeek", "Llama", "Qwen"}
    # The demo's synthetic issues are the demo source's, never github.com's.
    assert set(Repository.objects.values_list("source", flat=True)) == {DEMO_SOURCE}
    assert Annotation.objects.count() > 0
    assert Item.objects.filter(state="conflict").exists() or FinalLabel.objects.exists()


def test_add_member_creates_users_and_prints_passwords(project, capsys):
    call_command("add_member", "carol", "dave", project=project.slug, role="annotator")
    out = capsys.readouterr().out
    assert "carol: created as annotator; one-time password:" in out
    assert Membership.objects.filter(project=project, role="annotator").count() == 4


def test_add_member_updates_an_existing_role(project, cast, capsys):
    call_command("add_member", "annotator_a", project=project.slug, role="lead")
    assert Membership.objects.get(project=project, user=cast["annotator_a"]).role == "lead"


def test_add_member_on_missing_project_fails_without_owner(db):
    with pytest.raises(CommandError, match="Pass --owner USERNAME"):
        call_command("add_member", "x", project="nope", role="annotator")
    assert not Project.objects.exists()


def test_add_member_with_owner_creates_the_project_with_the_preset(db, capsys):
    call_command("add_member", "erin", project="new-study", role="annotator", owner="olga")
    project = Project.objects.get(slug="new-study")
    assert Membership.objects.get(project=project, user__username="olga").role == "owner"
    assert project.dimensions.count() == 3
    assert "olga: created as owner" in capsys.readouterr().out


def test_drf_create_token_works_for_any_user(project, cast, capsys):
    call_command("drf_create_token", "annotator_b")
    assert "Generated token" in capsys.readouterr().out
