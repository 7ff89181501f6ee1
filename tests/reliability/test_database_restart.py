"""PostgreSQL restarted for real while annotators submit over gunicorn (persistent
connections, as in production): a private cluster (support.PrivatePostgres; the shared
one is never touched) is shut down fast, left down for a moment, and started again, twice,
each time mid-run. Every request succeeds or fails with a clear 503 (API and pages), the
app recovers by itself, every item ends with `overlap` annotations, nothing half-written.

The long version is scenario 5 of bench/bench_faults.py."""

import pytest
from django.core.cache import cache

from .conftest import database_url
from .data import build_project, lost_or_half_written
from .restarts import connected_to, label_through_restarts
from .support import PrivatePostgres, start_gunicorn, stop, unclear_failures, unserved

CLIENTS = 6
ITEMS = 40
RESTARTS = 2


@pytest.fixture
def private_database(transactional_db, tmp_path):
    """A private cluster holding a copy of the (migrated, empty) test database, with
    Django's connection and a three-worker gunicorn pointed at it."""
    cache.clear()
    with PrivatePostgres() as cluster:
        url = cluster.copy_database(database_url(), "faultline")
        with connected_to(url):
            log = tmp_path / "gunicorn.log"
            process, base = start_gunicorn(
                database_url=url, log=log, workers=3, DB_CONN_MAX_AGE="60"
            )
            try:
                yield cluster, base, log
            finally:
                stop(process)


def test_database_restarted_while_annotators_submit_the_app_recovers_cleanly(private_database):
    cluster, base, log = private_database
    project, tokens, _ = build_project(slug="pgrestart", items=ITEMS, annotators=CLIENTS)

    outcome = label_through_restarts(
        cluster=cluster,
        base=base,
        project=project,
        tokens=tokens,
        restarts=RESTARTS,
        down_seconds=1.0,
    )

    # Both restarts happened mid-run: submissions were saved after each.
    assert len(outcome.restarts) == RESTARTS
    assert all(r.labeled_after < outcome.expected for r in outcome.restarts), outcome.restarts
    tally = outcome.tally
    # Every request succeeded or failed with a clear, retryable 503; gunicorn never dropped
    # a connection, nothing hung.
    assert 503 in {status for (_, status) in tally.statuses}
    assert unclear_failures(tally) == []
    # Pages read meanwhile: the page, or the 503 page; never a 500.
    assert outcome.unclear_pages == []
    assert outcome.pages[503] > 0 and outcome.pages[200] > 0
    # Recovered by itself; nothing lost, duplicated or half-written.
    assert unserved(base, project.slug, tokens) == []
    assert lost_or_half_written(project, tally.labeled) == []
    assert len(tally.labeled) == ITEMS * project.overlap
    text = log.read_text()
    assert "Traceback" not in text and "Internal Server Error" not in text, text[-2000:]
