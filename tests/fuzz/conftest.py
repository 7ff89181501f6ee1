import pytest

from .world import build_world


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Release archives go to a temporary folder, not the working tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(project, cast):
    from django.contrib.auth import get_user_model

    cast = {**cast, "spare": get_user_model().objects.create_user("spare")}
    return build_world(project=project, cast=cast)
