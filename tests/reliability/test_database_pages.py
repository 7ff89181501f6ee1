"""HTML pages when the database connection is lost mid-request, over real HTTP against
gunicorn: a clear 503 page (not a 500), and the same process serves the next request.

The connection is lost for real: the page's query waits on a lock the test holds, and the
test terminates that backend (pg_terminate_backend) while it waits."""

import threading
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client, RequestFactory

from config.middleware import server_error

from .conftest import database_url
from .data import build_project
from .support import start_gunicorn, stop, wait_for


@pytest.fixture
def one_worker(transactional_db, tmp_path):
    """gunicorn with a single worker and persistent connections: the request after the
    failure is served by the process whose connection was lost."""
    cache.clear()
    log = tmp_path / "gunicorn.log"
    process, base = start_gunicorn(
        database_url=database_url(), log=log, workers=1, DB_CONN_MAX_AGE="60"
    )
    yield base, log
    stop(process)


def _waiting_backend(admin, database):
    row = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        [database],
    ).fetchone()
    return row[0] if row else None


def test_page_answers_503_when_its_connection_is_lost_and_recovers_next_request(one_worker):
    base, log = one_worker
    project, _, _ = build_project(slug="pages", items=2, annotators=1)
    browser = Client()
    browser.force_login(get_user_model().objects.get(username="pages-owner"))
    session = requests.Session()
    session.cookies["sessionid"] = browser.cookies["sessionid"].value
    url = f"{base}/projects/{project.slug}/"
    assert session.get(url, timeout=30).status_code == 200  # the worker's connection is open

    database = urlparse(database_url()).path.lstrip("/")
    admin_url = urlunparse(urlparse(database_url())._replace(path="/postgres"))
    replies = []
    with (
        psycopg.connect(database_url()) as locker,
        psycopg.connect(admin_url, autocommit=True) as admin,
    ):
        # The page reads the session first: make it wait, then cut its connection.
        locker.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        request = threading.Thread(target=lambda: replies.append(session.get(url, timeout=30)))
        request.start()
        assert wait_for(lambda: _waiting_backend(admin, database), timeout=20)
        pid = _waiting_backend(admin, database)
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        request.join(timeout=30)
        locker.rollback()

    (reply,) = replies
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "1"
    assert "cannot reach its database" in reply.text
    assert "database_unavailable" in reply.text
    assert "Traceback" not in reply.text  # not Django's debug page
    # The same process, the next request: a fresh connection, the page as usual.
    for _ in range(3):
        again = session.get(url, timeout=30)
        assert again.status_code == 200, again.text[:300]
        assert project.name in again.text
    text = log.read_text()
    assert "Traceback" not in text
    assert "Internal Server Error" not in text


def test_lost_connection_outside_a_view_gets_the_503_page_from_handler500():
    # Errors raised by middleware (a session saved after the view) skip process_exception;
    # with DEBUG off they reach handler500, which tells a lost connection from a bug.
    request = RequestFactory().get("/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        lost = server_error(request)
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = server_error(request)
    assert lost.status_code == 503
    assert "cannot reach its database" in lost.content.decode()
    assert bug.status_code == 500
