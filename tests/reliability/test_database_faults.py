"""PostgreSQL connections lost while annotators submit over HTTP against gunicorn (with
persistent connections, as in production). The shared cluster is never restarted: the
app's backends are terminated with pg_terminate_backend from an admin connection, which
is what a database restart or failover does to them. Every request succeeds or fails
with a clear error, none hangs, the app recovers by itself, and nothing is half-written."""

import threading
from urllib.parse import urlparse, urlunparse

import psycopg
from django.db import connection

from .conftest import database_url
from .data import build_project, label_bodies, lost_or_half_written
from .support import Tally, annotate_until_empty, run_clients, unclear_failures, unserved

CLIENTS = 6
ITEMS = 24
RETRY = frozenset({503})


def _terminator(admin_url, database, spare_pid, stop, killed):
    """Terminate every backend of `database` but the test's own, every 0.3 s."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        while not stop.is_set():
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> %s AND pid <> pg_backend_pid()",
                [database, spare_pid],
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))
            stop.wait(0.3)


def test_connections_terminated_while_annotators_submit_the_app_recovers_cleanly(gunicorn):
    base, log = gunicorn
    project, tokens, _ = build_project(slug="pgfault", items=ITEMS, annotators=CLIENTS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    admin_url = urlunparse(urlparse(database_url())._replace(path="/postgres"))
    stop, killed, tally = threading.Event(), [], Tally()
    terminator = threading.Thread(
        target=_terminator,
        args=(admin_url, connection.settings_dict["NAME"], own_pid, stop, killed),
    )
    terminator.start()
    try:
        run_clients(
            CLIENTS,
            annotate_until_empty,
            tokens=tokens,
            base=base,
            slug=project.slug,
            bodies=label_bodies(project),
            tally=tally,
            retry_statuses=RETRY,
            max_rounds=ITEMS * 4,
        )
    finally:
        stop.set()
        terminator.join()

    assert sum(killed) > 0  # connections were lost while clients worked
    # Every request succeeded, or failed with a clear, retryable error; none hung or broke.
    assert unclear_failures(tally) == []
    # Recovered by itself: every client is served again without a failure.
    assert unserved(base, project.slug, tokens) == []
    # Nothing half-written, nothing lost.
    assert lost_or_half_written(project, tally.labeled) == []
    assert len(tally.labeled) == ITEMS * project.overlap
