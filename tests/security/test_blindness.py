"""Blindness, site-wide: every GET URL of the resolver, as annotator_b and as an outsider.

1. Nothing annotator_a wrote on an unsettled item (note, evidence) appears anywhere.
2. Whether annotator_a submitted an item that annotator_b still holds changes nothing that
   annotator_b can read: every page, endpoint, export, release, count and error message is
   the same before and after (CSRF tokens aside)."""

import re

import pytest
from django.db import transaction
from django.test import Client

from annotate.codebook import services as codebook
from annotate.labeling.queue import next_item, skip_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Item
from tests.factories import IssueFactory, ItemFactory

from .routes import all_routes
from .test_permission_matrix import MATRIX
from .world import build_world

CSRF = re.compile(rb"[A-Za-z0-9]{64}")
SECRET = "zq7-only-a-wrote-{}"
# Query variants that read labels in other ways than the default.
VARIANTS = {
    "api-export": [
        f"format={fmt}&labels={labels}"
        for fmt in ("olf", "jsonl", "csv")
        for labels in ("final", "all")
    ],
    "api-distribution": [
        "rows=dim:symptom",
        "rows=dim:symptom&cols=dim:root_cause",
        "rows=dim:symptom&source=annotator:annotator_a",
        "rows=dim:symptom&source=annotator:annotator_b",
    ],
    "analysis-distributions": [
        f"view={view}" for view in ("rq1", "rq2", "rq3", "rq4", "rq5", "rq6", "explore")
    ]
    + ["source=annotator:annotator_a", "source=annotator:annotator_b"],
    "api-items": ["state=open", "state=conflict", "state=settled"],
    "api-my-annotations": [""],
    "api-annotations": [""],
}


@pytest.fixture
def blind_world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(cast, project, text=lambda name: SECRET.format(name))


def _get_urls(world, item_keys) -> list[str]:
    urls = []
    for route in all_routes():
        if route.text.startswith("admin/"):
            continue
        expect = MATRIX.get((route.key, "GET"))
        if expect is None:
            continue
        keys = item_keys if "item_id" in route.params else [expect.item]
        for key in keys:
            values = {**world.kwargs(key), "uidb64": "MQ", "token": "x-y", **expect.params}
            path = route.path(values)
            for query in VARIANTS.get(route.key, [expect.query]):
                urls.append(path + ("?" + query if query else ""))
    return urls


def _read(client, url) -> tuple[int, bytes]:
    response = client.get(url)
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    return response.status_code, CSRF.sub(b"<token>", body)


def _reader(world, username):
    client = Client(raise_request_exception=False)
    client.force_login(world.users[username])
    return client


def test_nothing_annotator_a_wrote_on_unsettled_items_reaches_b_or_an_outsider(blind_world):
    world = blind_world
    secrets = [
        world.texts[f"{kind}_a_{key}"].encode()
        for kind in ("note", "evidence")
        for key in ("conflict", "half")
    ]
    urls = _get_urls(world, list(world.items))
    assert len(urls) > 60
    assert not leaks_to(world, urls, secrets, ("annotator_b", "outsider"))


def leaks_to(world, urls, secrets, usernames) -> list:
    """(username, url, secret) for every secret a reader finds at a URL (none is a 5xx)."""
    leaks = []
    for username in usernames:
        client = _reader(world, username)
        for url in urls:
            status, body = _read(client, url)
            assert status < 500, (username, url, status)
            leaks += [(username, url, s.decode()) for s in secrets if s in body]
    return leaks


def test_annotator_a_submitting_changes_nothing_annotator_b_can_read(blind_world):
    """A probe item both hold; a new category only annotator_a will choose on it."""
    world = blind_world
    project, users = world.project, world.users
    probe = ItemFactory(project=project, issue=IssueFactory(title="probe"), position=0)
    # annotator_a and annotator_b first give back what they hold, then both take the probe.
    for name, key in (("annotator_a", "held"), ("annotator_b", "half")):
        skip_item(project=project, user=users[name], item=world.items[key], reason="x")
    for name in ("annotator_a", "annotator_b"):
        assert next_item(project=project, user=users[name]).pk == probe.pk
    only_a = codebook.add_category(
        project=project,
        actor=users["lead"],
        dimension=project.dimensions.get(key="stage"),
        name="zq7 only annotator_a chose this",
    )
    world.items["probe"] = probe
    urls = _get_urls(world, ["probe", "half", "conflict"])
    client = _reader(world, "annotator_b")
    before = {url: _read(client, url) for url in urls}
    symptom = world.category
    root = project.dimensions.get(key="root_cause").categories.filter(children__isnull=True)[0]
    with transaction.atomic():
        submit_annotation(
            project=project,
            user=users["annotator_a"],
            item=probe,
            records=[
                [
                    {"dimension": "symptom", "category": symptom.pk, "evidence": "zq7-ev"},
                    {"dimension": "root_cause", "category": root.pk},
                    {"dimension": "stage", "category": only_a.pk},
                ]
            ],
            note="zq7-probe-note",
        )
    probe.refresh_from_db()
    assert probe.state == Item.State.OPEN
    changed = []
    for url in urls:
        after = _read(client, url)
        if after != before[url]:
            changed.append(url)
        assert b"zq7-probe-note" not in after[1] and b"zq7-ev" not in after[1], url
    assert not changed, "annotator_b can tell that annotator_a submitted: " + ", ".join(changed)
