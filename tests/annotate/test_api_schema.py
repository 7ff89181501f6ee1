"""schemathesis against /api/schema/ for the dataset resources, as an authenticated owner:
no 5xx, and every status, content type and body matches the schema."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dataset.importing import collect_sources, import_dataset

from .test_import import FIXTURES

# The operations this suite owns (others' endpoints are fuzzed by their own suites).
OURS = (
    r"^/api/projects/(\{slug\}/)?("
    r"|github-token/|members/.*|invitations/.*|codebook/.*|issues/.*|items/(\{item_id\}/)?|my/.*|annotations/"
    r"|final-labels/|export/|import/|releases/.*)$"
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Release archives go to a temporary folder, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_schema(db):
    # Like Django's test client: keep the test's connection (and its transaction) open
    # across the WSGI requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(project, cast):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    return Token.objects.create(user=cast["owner"]).key


def test_dataset_api_matches_its_schema(api_schema, project, owner_token):
    operations = [r.ok() for r in api_schema.include(path_regex=OURS).get_all_operations()]
    assert len(operations) >= 20
    headers = {"Authorization": f"Token {owner_token}"}
    for operation in operations:
        strategy = operation.as_strategy(path_parameters={"slug": project.slug})

        @given(case=strategy)
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
