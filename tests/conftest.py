"""The fixed cast (owner, lead, annotator_a, annotator_b, outsider) on one project with
the study's preset codebook, on PostgreSQL: the suite refuses to run on anything else."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from annotate.models import Role
from annotate.projects import services

from .factories import ItemFactory, UserFactory


def pytest_configure(config):
    # Password hashing dominates fixture setup otherwise; strength is irrelevant in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "The tests run on PostgreSQL, not " + engine + ". Set DATABASE_URL "
            "(make test does: postgres://postgres@127.0.0.1:5432/faultline)."
        )


@pytest.fixture(autouse=True)
def import_upload_dir(tmp_path):
    """Files uploaded for import jobs go to a temporary folder, not the working tree. (Not
    through pytest-django's `settings` fixture: some tests parametrize a `settings`.)"""
    from django.test import override_settings

    folder = tmp_path / "imports"
    with override_settings(IMPORT_UPLOAD_DIR=folder):
        yield folder


@pytest.fixture
def cast(db):
    """Users by role, keyed by name."""
    return {
        name: UserFactory(username=name)
        for name in ("owner", "lead", "annotator_a", "annotator_b", "outsider")
    }


@pytest.fixture
def project(cast):
    project = services.create_project(name="LLM failures", slug="llm-failures", owner=cast["owner"])
    services.add_member(project=project, username="lead", role=Role.LEAD)
    services.add_member(project=project, username="annotator_a", role=Role.ANNOTATOR)
    services.add_member(project=project, username="annotator_b", role=Role.ANNOTATOR)
    return project


@pytest.fixture
def items(project):
    return ItemFactory.create_batch(5, project=project)


@pytest.fixture
def client_for(client):
    """A Django test client logged in as one of the cast (or anonymous for None)."""

    def make(user):
        from django.test import Client

        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture
def api_for():
    """A DRF API client authenticated as one of the cast (or anonymous for None)."""

    def make(user):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


@pytest.fixture
def fresh_cache():
    """An empty cache: login throttling and the queue's hints start from nothing."""
    from django.core.cache import cache

    cache.clear()
