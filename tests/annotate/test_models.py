import pytest
from django.db import IntegrityError

from annotate.models import Category, Dimension, Membership, Project
from annotate.projects import services
from tests.factories import IssueFactory, ItemFactory, RepositoryFactory


def test_preset_loads_the_study_taxonomy(project):
    keys = list(project.dimensions.values_list("key", flat=True))
    assert keys == ["symptom", "root_cause", "stage"]
    symptom = project.dimensions.get(key="symptom")
    oom = Category.objects.get(dimension=symptom, path="Crash > CUDA Error > Out of Memory")
    assert oom.depth == 3
    assert oom.parent.parent.name == "Crash"
    assert symptom.categories.filter(depth=1).count() == 5
    assert symptom.categories.filter(children__isnull=True).count() == 37
    root_cause = project.dimensions.get(key="root_cause")
    assert root_cause.categories.filter(children__isnull=True).count() == 27
    stage = project.dimensions.get(key="stage")
    assert sorted(stage.categories.values_list("path", flat=True)) == ["Fine-tuning", "Inference"]


def test_loading_the_preset_twice_adds_nothing(project):
    before = Category.objects.filter(dimension__project=project).count()
    assert services.load_preset(project=project) == 0
    assert Category.objects.filter(dimension__project=project).count() == before
    assert Dimension.objects.filter(project=project).count() == 3


def test_category_names_are_unique_among_siblings(project):
    stage = project.dimensions.get(key="stage")
    with pytest.raises(IntegrityError):
        Category.objects.create(dimension=stage, name="Inference", path="Inference")


def test_same_category_name_under_different_parents_is_allowed(project):
    symptom = project.dimensions.get(key="symptom")
    hang = symptom.categories.get(path="Hang")
    crash = symptom.categories.get(path="Crash")
    Category.objects.create(
        dimension=symptom, parent=hang, name="Other", path="Hang > Other", depth=2
    )
    Category.objects.create(
        dimension=symptom, parent=crash, name="Other", path="Crash > Other", depth=2
    )


def test_membership_is_unique_per_project(project, cast):
    with pytest.raises(IntegrityError):
        Membership.objects.create(project=project, user=cast["lead"], role="owner")


def test_issue_number_is_unique_per_repository(db):
    repo = RepositoryFactory(name="Qwen2.5")
    IssueFactory(repository=repo, number=7)
    with pytest.raises(IntegrityError):
        IssueFactory(repository=repo, number=7)


def test_issue_github_id_is_unique(db):
    IssueFactory(github_id=42)
    with pytest.raises(IntegrityError):
        IssueFactory(github_id=42)


def test_an_issue_is_in_a_project_once(project):
    item = ItemFactory(project=project)
    with pytest.raises(IntegrityError):
        ItemFactory(project=project, issue=item.issue)


def test_projects_for_user_lists_only_memberships(project, cast):
    assert list(Project.objects.for_user(cast["annotator_a"])) == [project]
    assert list(Project.objects.for_user(cast["outsider"])) == []
