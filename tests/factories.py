import factory
from django.contrib.auth import get_user_model

from annotate.models import Item, Membership, Project, Role
from mining.models import Comment, Issue, Repository


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
        django_get_or_create = ["owner", "name"]

    owner = "QwenLM"
    name = factory.Sequence(lambda n: f"repo{n}")
    group = "Qwen"


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    repository = factory.SubFactory(RepositoryFactory)
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
    github_id = factory.Sequence(lambda n: 500_000 + n)
    author = "someone"
    body = "Same here."


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    project = factory.SubFactory(ProjectFactory)
    issue = factory.SubFactory(IssueFactory)
    position = factory.Sequence(lambda n: n)
