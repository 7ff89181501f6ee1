"""Cross-site scripting, fast: every page that shows user or GitHub text, filled with
payloads, holds no script, event handler or javascript: URL that came from a payload."""

import pytest
from django.core.cache import cache
from django.test import Client

from .xss import CATEGORY, PAYLOADS, SHORT, active_content, build_xss_world, pages


@pytest.fixture
def xss_world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return build_xss_world(cast, project)


def test_the_detector_finds_each_payload_when_it_is_not_escaped():
    for payload in PAYLOADS + [SHORT, CATEGORY]:
        if payload.startswith(("<", '"><', "'><", "</")):
            assert active_content(f"<div>{payload}</div>"), payload
        elif payload[0] in "\"'":
            quote = payload[0]
            assert active_content(f"<input value={quote}{payload}{quote}>"), payload
    assert not active_content("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>")


def test_no_payload_becomes_active_content_on_any_page(xss_world):
    clients, problems, shown = {}, [], 0
    for username, url in pages(xss_world):
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(xss_world.users[username])
        response = clients[username].get(url)
        assert response.status_code == 200, (username, url, response.status_code)
        html = response.content.decode()
        problems += [(username, url, found) for found in active_content(html)]
        shown += "&lt;img src=x onerror=" in html
    assert not problems
    assert shown > 30  # the payloads did reach the pages, escaped
