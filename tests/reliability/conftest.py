import secrets

import pytest
from django.core.cache import cache
from django.db import connection

from mining.emulator import GitHubEmulator

from .support import start_gunicorn, stop


def database_url() -> str:
    """The URL of the test database (what subprocesses must connect to)."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="module")
def gunicorn_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn -w 3 on the test database with persistent connections, as in production;
    shared by a module's tests (each starts from a flushed database)."""
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with django_db_blocker.unblock():
        url = database_url()
    process, base = start_gunicorn(database_url=url, log=log, workers=3, DB_CONN_MAX_AGE="60")
    yield base, log
    stop(process)


@pytest.fixture
def gunicorn(gunicorn_server, transactional_db):
    """The module's gunicorn; yields (base URL, log path)."""
    cache.clear()
    return gunicorn_server


@pytest.fixture
def emulator(settings):
    """A running GitHub emulator that requires its own random token."""
    emu = GitHubEmulator(token="ghp_" + secrets.token_hex(16)).start()
    # The configured API: a repository added without a source is the emulator's.
    settings.GITHUB_API_URL = emu.url
    yield emu
    emu.stop()
