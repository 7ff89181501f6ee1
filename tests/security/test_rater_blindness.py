"""Blindness extended to machine raters, site-wide (every GET URL of the resolver, with the
label-reading variants of test_blindness): a rater's labels on an item (its evidence, its
name beside a category) reach no annotator, whether or not they submitted, nor an
outsider; leads and owners see them only in the adjudication column of an item in
adjudication, and only while the project shows that rater there."""

import pytest
from django.test import Client

from annotate.models import Rater

from .test_blindness import SECRET, _get_urls, _read, _reader
from .world import ITEM_KEYS, build_world


@pytest.fixture
def machine_world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_world(cast, project, text=lambda name: SECRET.format(name))


def _secrets(world, keys=ITEM_KEYS) -> dict[str, bytes]:
    return {key: world.texts[f"machine_evidence_{key}"].encode() for key in keys}


def test_no_annotator_or_outsider_sees_a_machine_label_anywhere(machine_world):
    world = machine_world
    secrets = _secrets(world)
    urls = _get_urls(world, list(world.items))
    assert len(urls) > 60
    leaks = []
    for username in ("annotator_a", "annotator_b", "other_annotator", "outsider"):
        client = _reader(world, username)
        for url in urls:
            status, body = _read(client, url)
            assert status < 500, (username, url, status)
            leaks += [(username, url, key) for key, s in secrets.items() if s in body]
    assert not leaks


def test_leads_see_machine_labels_only_in_the_adjudication_column(machine_world):
    world = machine_world
    secrets = _secrets(world)
    urls = _get_urls(world, list(world.items))
    column = "/machine-labels/"
    for username in ("lead", "owner"):
        client = _reader(world, username)
        seen = {}
        for url in urls:
            status, body = _read(client, url)
            assert status < 500, (username, url, status)
            for key, secret in secrets.items():
                if secret in body:
                    seen.setdefault(key, []).append(url)
        assert all(u.endswith(column) for found in seen.values() for u in found), seen
        # Items whose annotations are all in: shown; open, half-submitted or held: never.
        assert set(seen) == {"conflict", "decided", "discussion", "settled"}


def test_a_rater_not_shown_in_adjudication_is_shown_nowhere(machine_world):
    world = machine_world
    Rater.objects.filter(pk=world.rater_id).update(visible_in_adjudication=False)
    client = _reader(world, "lead")
    url = f"/projects/{world.project.slug}/items/{world.items['conflict'].pk}/machine-labels/"
    status, body = _read(client, url)
    assert status == 200 and body.strip() == b""
    # The conflict page itself carries only the loader, never the labels.
    page = Client()
    page.force_login(world.users["lead"])
    html = page.get(f"/projects/{world.project.slug}/conflicts/{world.items['conflict'].pk}/")
    assert b"machine-labels/" in html.content
    assert _secrets(world)["conflict"] not in html.content
