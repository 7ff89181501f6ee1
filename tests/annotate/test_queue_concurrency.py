"""Many annotators asking for items and submitting at once, over real HTTP against the
live server on PostgreSQL: every item ends with exactly `overlap` annotations."""

import threading
from collections import Counter

import pytest
import requests
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from annotate.models import Annotation, Assignment, Category, Item, Role
from annotate.services import add_member
from tests.factories import ItemFactory, UserFactory

ANNOTATORS = 8
ITEMS = 12


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def label_body(project):
    root = Category.objects.filter(
        dimension__project=project, dimension__key="root_cause", children__isnull=True
    ).first()
    labels = [
        {"dimension": "symptom", "category": "Crash > CUDA Error > Out of Memory"},
        {"dimension": "root_cause", "category": root.pk},
        {"dimension": "stage", "category": "Inference"},
    ]
    return {"records": [{"labels": labels}]}


def work(base, slug, token, body, barrier, log):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    barrier.wait()
    for _ in range(ITEMS + 2):
        response = session.post(f"{base}/api/projects/{slug}/queue/next/", timeout=30)
        log.append(response.status_code)
        if response.status_code != 200:
            return
        item_id = response.json()["id"]
        submitted = session.post(
            f"{base}/api/projects/{slug}/items/{item_id}/annotations/", json=body, timeout=30
        )
        log.append(submitted.status_code)


def test_concurrent_annotators_fill_every_item_exactly_to_overlap(live_server, project):
    items = ItemFactory.create_batch(ITEMS, project=project)
    tokens = []
    for n in range(ANNOTATORS):
        user = UserFactory(username=f"racer{n}")
        add_member(project=project, username=user.username, role=Role.ANNOTATOR)
        tokens.append(Token.objects.create(user=user).key)
    body = label_body(project)
    barrier = threading.Barrier(ANNOTATORS)
    logs = [[] for _ in range(ANNOTATORS)]
    threads = [
        threading.Thread(
            target=work, args=(live_server.url, project.slug, tokens[n], body, barrier, logs[n])
        )
        for n in range(ANNOTATORS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = Counter(code for log in logs for code in log)
    assert set(statuses) <= {200, 204}, statuses
    assert statuses[204] == ANNOTATORS  # everyone ran the queue dry
    overlap = project.overlap
    per_item = Counter(Annotation.objects.values_list("item_id", flat=True))
    assert per_item == {item.pk: overlap for item in items}
    pairs = Counter(Annotation.objects.values_list("item_id", "annotator_id"))
    assert max(pairs.values()) == 1
    assert statuses[200] == 2 * ITEMS * overlap  # one next and one submit per annotation
    for item in Item.objects.filter(project=project):
        assert (item.assigned_count, item.submitted_count) == (overlap, overlap)
        assert item.state == Item.State.SETTLED  # identical labels settle unanimously
    assert not Assignment.objects.filter(state=Assignment.State.ACTIVE).exists()
