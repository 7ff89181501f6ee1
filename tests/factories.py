import factory
from django.contrib.auth import get_user_model

from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Conflict,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Membership,
    Project,
    Role,
)
from mining.models import GITHUB_SOURCE, Comment, Issue, ProjectRepository, Repository


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-123")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.ANNOTATOR


class RepositoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Repository
        django_get_or_create = ["source", "owner", "name"]
        skip_postgeneration_save = True

    source = GITHUB_SOURCE
    owner = "QwenLM"
    name = factory.Sequence(lambda n: f"repo{n}")
    # Public unless a test says otherwise (private=None: unknown, as rows mined before
    # the flag); a private repository's text reads only in projects that fetched it.
    private = False

    # A repository's group and metadata are each project's own (ProjectRepository): these
    # are what ItemFactory gives the item's project when it has no view of the repository.
    @factory.post_generation
    def group(obj, create, extracted, **kwargs):
        obj.factory_group = "Qwen" if extracted is None else extracted

    @factory.post_generation
    def metadata(obj, create, extracted, **kwargs):
        obj.factory_metadata = extracted or {}


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    repository = factory.SubFactory(RepositoryFactory)
    source = factory.SelfAttribute("repository.source")
    github_id = factory.Sequence(lambda n: 10_000 + n)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"CUDA out of memory #{n}")
    body = "Running the model fails.\n\n```\nTraceback (most recent call last):\n```"
    state = "closed"
    fetched = True


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    issue = factory.SubFactory(IssueFactory)
    source = factory.SelfAttribute("issue.source")
    github_id = factory.Sequence(lambda n: 500_000 + n)
    author = "someone"
    body = "Same here."


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    issue = factory.SubFactory(IssueFactory)
    position = factory.Sequence(lambda n: n)

    @factory.post_generation
    def repository_view(obj, create, extracted, **kwargs):
        """The item's project sees the repository with the factory's group and metadata."""
        if not create:
            return
        repository = obj.issue.repository
        ProjectRepository.objects.get_or_create(
            project=obj.project,
            repository=repository,
            defaults={
                "group": getattr(repository, "factory_group", "Qwen"),
                "metadata": getattr(repository, "factory_metadata", {}),
            },
        )


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    item = factory.SubFactory(ItemFactory)
    annotator = factory.SubFactory(UserFactory)


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation

    item = factory.SubFactory(ItemFactory)
    annotator = factory.SubFactory(UserFactory)


class AnnotationLabelFactory(factory.django.DjangoModelFactory):
    """One category of one record; item, annotator and dimension repeat the annotation's and
    the category's, as the labeling service stores them."""

    class Meta:
        model = AnnotationLabel

    annotation = factory.SubFactory(AnnotationFactory)
    item = factory.SelfAttribute("annotation.item")
    annotator = factory.SelfAttribute("annotation.annotator")
    dimension = factory.SelfAttribute("category.dimension")


class FinalLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinalLabel

    item = factory.SubFactory(ItemFactory)
    provenance = FinalLabel.Provenance.IMPORTED


class FinalRecordLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinalRecordLabel

    final = factory.SubFactory(FinalLabelFactory)
    item = factory.SelfAttribute("final.item")
    dimension = factory.SelfAttribute("category.dimension")


class ConflictFactory(factory.django.DjangoModelFactory):
    """A difference on an item; the project is the item's."""

    class Meta:
        model = Conflict

    item = factory.SubFactory(ItemFactory)
    project = factory.SelfAttribute("item.project")
    kind = Conflict.Kind.CATEGORY
