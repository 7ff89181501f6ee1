import pytest
from django.core.cache import cache

from .world import build_world


@pytest.fixture
def world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return build_world(cast, project)
