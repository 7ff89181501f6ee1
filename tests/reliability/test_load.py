"""Labeling under load, over real HTTP against gunicorn with several worker processes on
PostgreSQL: every item ends with exactly `overlap` annotations, nothing lost, duplicated
or half-written, no 5xx, no deadlock; and a lead deciding conflicts while annotators keep
submitting never writes a final label from a half-submitted pair.

The long version (50 clients, 2,000 items) is bench/bench_load.py."""

import random
import threading
import time
from collections import Counter

import requests

from annotate.models import Annotation, FinalLabel, Item

from .data import (
    annotation_counts,
    build_project,
    finals_from_half_pairs,
    integrity_problems,
    label_bodies,
)
from .support import Tally, annotate_until_empty, deadlocks_in, run_clients

CLIENTS = 10
ITEMS = 60


def test_concurrent_annotators_over_gunicorn_fill_every_item_to_overlap(gunicorn):
    base, log = gunicorn
    project, tokens, _ = build_project(slug="load", items=ITEMS, annotators=CLIENTS)
    tally = Tally()

    run_clients(
        CLIENTS,
        annotate_until_empty,
        tokens=tokens,
        base=base,
        slug=project.slug,
        bodies=label_bodies(project),
        tally=tally,
    )

    assert set(tally.statuses) <= {("next", 200), ("next", 204), ("submit", 200)}, tally.errors
    assert tally.statuses[("next", 204)] == CLIENTS  # every client ran the queue dry
    assert tally.statuses[("submit", 200)] == ITEMS * project.overlap
    assert annotation_counts(project) == {project.overlap: ITEMS}
    assert Counter(tally.labeled) == Counter(set(tally.labeled))  # no pair labeled twice
    assert integrity_problems(project) == []
    assert not Item.objects.filter(project=project, state=Item.State.OPEN).exists()
    assert deadlocks_in(log.read_text()) == []
    assert "Traceback" not in log.read_text()


def _lead_loop(base, slug, token, stop_when, tally, attempts, open_ids):
    """Decide every item in the conflict queue, and try to decide items that are still
    being labeled (which must be refused), until `stop_when` is set and nothing is left."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    decision = {
        "out_of_scope": True,
        "out_of_scope_reason": "Decided under load.",
        "rationale": "The annotators disagree; the lead decides.",
    }
    rng = random.Random(8)
    while True:
        listing = session.get(f"{base}/api/projects/{slug}/conflicts/?limit=20", timeout=30)
        tally.note("next", listing.status_code, 0.0)
        waiting = [row["id"] for row in listing.json()["results"]]
        guesses = rng.sample(open_ids, k=min(2, len(open_ids)))
        for item_id in waiting + guesses:
            url = f"{base}/api/projects/{slug}/items/{item_id}/adjudication/"
            response = session.post(url, json=decision, timeout=30)
            attempts[(item_id in waiting, response.status_code)] += 1
        if stop_when.is_set() and not waiting:
            return
        time.sleep(0.02)


def test_lead_deciding_while_annotators_submit_never_settles_a_half_pair(gunicorn):
    base, log = gunicorn
    project, tokens, leads = build_project(
        slug="adjudicate", items=ITEMS, annotators=CLIENTS, leads=1
    )
    open_ids = list(Item.objects.filter(project=project).values_list("pk", flat=True))
    tally, lead_tally, attempts = Tally(), Tally(), Counter()
    done = threading.Event()
    lead = threading.Thread(
        target=_lead_loop, args=(base, project.slug, leads[0], done, lead_tally, attempts, open_ids)
    )
    lead.start()
    try:
        run_clients(
            CLIENTS,
            annotate_until_empty,
            tokens=tokens,
            base=base,
            slug=project.slug,
            bodies=label_bodies(project),
            tally=tally,
        )
    finally:
        done.set()
        lead.join(timeout=120)

    assert set(tally.statuses) <= {("next", 200), ("next", 204), ("submit", 200)}, tally.errors
    assert set(lead_tally.statuses) == {("next", 200)}
    # Listed conflicts were decided (201), or another decision had come first (400, never
    # here: one lead); guessed items were refused unless they were in conflict by then.
    assert attempts[(True, 201)] > 0, attempts
    assert {status for (_, status) in attempts} <= {201, 400}, attempts
    assert not [k for k in attempts if k[1] >= 500]
    decided = FinalLabel.objects.filter(item__project=project, provenance="adjudicated").count()
    assert decided == attempts[(True, 201)] + attempts[(False, 201)]
    assert finals_from_half_pairs(project) == []
    assert integrity_problems(project) == []
    assert annotation_counts(project) == {project.overlap: ITEMS}
    assert Item.objects.filter(project=project, state=Item.State.SETTLED).count() == ITEMS
    assert Annotation.objects.filter(item__project=project).count() == ITEMS * project.overlap
    assert deadlocks_in(log.read_text()) == []
