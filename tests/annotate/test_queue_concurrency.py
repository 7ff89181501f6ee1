"""Many annotators asking for items and submitting at once, over real HTTP against the
live server on PostgreSQL: every item ends with exactly `overlap` annotations."""

import threading
from collections import Counter

import pytest
import requests
from rest_framework.authtoken.models import Token

from annotate.models import Annotation, Assignment, Category, Item, Role
from annotate.projects.services import add_member
from tests.factories import ItemFactory, UserFactory

ANNOTATORS = 8
ITEMS = 12


pytestmark = pytest.mark.usefixtures("fresh_cache")


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


def test_one_annotator_in_many_tabs_at_once_gets_one_item(live_server, project):
    """The membership lock serialises one annotator's calls: every tab gets the same item
    and the annotator holds one assignment, not one per tab."""
    ItemFactory.create_batch(4, project=project)
    user = UserFactory(username="many-tabs")
    add_member(project=project, username=user.username, role=Role.ANNOTATOR)
    token = Token.objects.create(user=user).key
    tabs = 6
    barrier = threading.Barrier(tabs)
    answers = []

    def ask():
        barrier.wait()
        response = requests.post(
            f"{live_server.url}/api/projects/{project.slug}/queue/next/",
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        answers.append((response.status_code, response.json()["id"]))

    threads = [threading.Thread(target=ask) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == tabs and {status for status, _ in answers} == {200}
    assert len({item_id for _, item_id in answers}) == 1
    assert Assignment.objects.filter(annotator=user, state=Assignment.State.ACTIVE).count() == 1
    assert sum(Item.objects.filter(project=project).values_list("assigned_count", flat=True)) == 1
