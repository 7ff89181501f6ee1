import pytest
from django.core.cache import cache

from .world import build_world


@pytest.fixture
def world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return build_world(cast, project)


@pytest.fixture
def emulator(settings):
    """The project's GitHub emulator over real HTTP, its URL and token the server's."""
    import secrets

    from mining.emulator import GitHubEmulator

    emu = GitHubEmulator(token="ghp_" + secrets.token_hex(16)).start()
    settings.GITHUB_API_URL = emu.url
    settings.GITHUB_TOKEN = emu.token
    yield emu
    emu.stop()
