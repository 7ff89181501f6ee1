import secrets

import pytest

from mining import crawl
from mining.emulator import GitHubEmulator


@pytest.fixture
def emulator(settings):
    """A running emulator that requires its own random token (also set as GITHUB_TOKEN)."""
    emu = GitHubEmulator(token="ghp_" + secrets.token_hex(16)).start()
    # The configured API: a repository added without a source is the emulator's.
    settings.GITHUB_API_URL = emu.url
    yield emu
    emu.stop()


@pytest.fixture
def token(emulator, settings):
    settings.GITHUB_TOKEN = emulator.token
    settings.GITHUB_API_URL = emulator.url
    return emulator.token


@pytest.fixture
def client_factory(emulator, token, monkeypatch):
    """Clients for the emulator with a short timeout; closed at teardown."""
    made = []
    monkeypatch.setenv("GITHUB_TIMEOUT", "1")

    def make():
        client = crawl.make_client(api_url=emulator.url)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def no_sleep(monkeypatch):
    """Short waits are still real (the emulator's resets are real time), but the miner's
    own backoff between retries is shortened."""
    monkeypatch.setattr(crawl, "BACKOFF_SECONDS", 0.01)
