"""Annotators labeling over gunicorn while the database restarts for real (a private
cluster, support.PrivatePostgres), shared by tests/reliability and bench/bench_faults.py.
Needs Django set up."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlparse

import requests
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from .data import label_bodies
from .support import Tally, annotate_until_empty, run_clients, wait_for

PAGE_503_TEXT = "cannot reach its database"


@contextmanager
def connected_to(url: str):
    """Point Django's default connection at another PostgreSQL database for a while."""
    parsed = urlparse(url)
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(
        NAME=parsed.path.lstrip("/"), HOST=parsed.hostname, PORT=parsed.port, USER=parsed.username
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@dataclass
class Restart:
    at_seconds: float  # since the clients started
    labeled_before: int  # submissions saved when the server went down
    labeled_after: int  # ... and when it answered again
    seconds: float  # how long the restart took


@dataclass
class Outcome:
    tally: Tally
    restarts: list[Restart] = field(default_factory=list)
    pages: Counter = field(default_factory=Counter)  # status of each page read
    unclear_pages: list = field(default_factory=list)  # non-200 pages that are not the 503 page
    seconds: float = 0.0
    expected: int = 0  # submissions the run must save


def label_through_restarts(
    *, cluster, base: str, project, tokens: list[str], restarts: int, down_seconds: float
) -> Outcome:
    """Every annotator labels until the queue is empty (retrying 503s and refused
    connections) while the cluster restarts `restarts` times, each when a further share of
    the submissions is saved, so that every restart lands mid-run; meanwhile the owner
    reads the project page over and over."""
    owner = get_user_model().objects.get(username=f"{project.slug}-owner")
    browser = Client()
    browser.force_login(owner)
    cookie = browser.cookies["sessionid"].value
    bodies = label_bodies(project)
    items = project.items.count()
    expected = items * project.overlap
    connection.close()  # the caller's own connection would be cut by the first restart
    outcome = Outcome(tally=Tally(), expected=expected)
    done = threading.Event()
    started = time.monotonic()

    def restarter():
        for n in range(restarts):
            share = expected * (n + 1) // (restarts + 1)
            if not wait_for(lambda s=share: len(outcome.tally.labeled) >= s or done.is_set(), 120):
                return
            if done.is_set():
                return
            before, began = len(outcome.tally.labeled), time.monotonic()
            cluster.restart(down_seconds=down_seconds)
            outcome.restarts.append(
                Restart(
                    at_seconds=began - started,
                    labeled_before=before,
                    labeled_after=len(outcome.tally.labeled),
                    seconds=time.monotonic() - began,
                )
            )

    def reader():
        session = requests.Session()
        session.cookies["sessionid"] = cookie
        while not done.is_set():
            try:
                reply = session.get(f"{base}/projects/{project.slug}/", timeout=30)
            except requests.RequestException as error:  # gunicorn itself never goes down
                outcome.unclear_pages.append((type(error).__name__, str(error)[:300]))
                continue
            outcome.pages[reply.status_code] += 1
            clear = reply.status_code == 503 and PAGE_503_TEXT in reply.text
            if reply.status_code != 200 and not clear:
                outcome.unclear_pages.append((reply.status_code, reply.text[:300]))
            done.wait(0.05)

    helpers = [threading.Thread(target=restarter), threading.Thread(target=reader)]
    for helper in helpers:
        helper.start()
    try:
        outcome.seconds = run_clients(
            len(tokens),
            annotate_until_empty,
            tokens=tokens,
            base=base,
            slug=project.slug,
            bodies=bodies,
            tally=outcome.tally,
            retry_statuses=frozenset({503}),
            max_rounds=items * 4,
        )
    finally:
        done.set()
        for helper in helpers:
            helper.join()
    return outcome
