"""CSRF on every form and htmx mutation: with CSRF checks enforced, every POST of the matrix
(pages and session-authenticated API calls alike) without a token is refused with 403; with
the token that base.html hands to htmx, the same requests go through."""

import json
import re

from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from .routes import all_routes
from .test_permission_matrix import MATRIX, _values

HX_HEADERS = re.compile(r"""hx-headers='\{"X-CSRFToken": "([A-Za-z0-9]+)"\}'""")
# For each mutation, a role the matrix lets through (so the refusal is CSRF's, not the role's).
ALLOWED = ("owner", "lead", "annotator", "outsider")
USERNAMES = {"owner": "owner", "lead": "lead", "annotator": "annotator_a", "outsider": "outsider"}


def _mutations(world):
    routes = {route.key: route for route in all_routes()}
    for (key, method), expect in MATRIX.items():
        if method == "GET":
            continue
        role = next((r for r in ALLOWED if expect.statuses[r] not in (403, 404)), None)
        if role is None:
            continue
        route = routes[key]
        yield route, method, expect, role, route.path(_values(world, expect))


def _post(client, route, method, path, data, **headers):
    if route.text.startswith("api/") and not (data and "files" in data):
        body = json.dumps(data or {})
        return client.generic(method, path, body, content_type="application/json", **headers)
    return client.post(path, data or {}, **headers)


def test_every_form_and_api_mutation_without_a_token_is_refused(world):
    world.job_repo_id = world.job.repositories.get().pk
    refused, accepted = [], []
    clients = {}
    for route, method, expect, role, path in _mutations(world):
        if role not in clients:
            clients[role] = Client(enforce_csrf_checks=True)
            clients[role].force_login(world.users[USERNAMES[role]])
        data = expect.body(world) if expect.body else None
        response = _post(clients[role], route, method, path, data)
        (refused if response.status_code == 403 else accepted).append(f"{method} {path}")
    assert len(refused) > 30
    assert not accepted, "accepted without a CSRF token: " + ", ".join(accepted)


def test_the_login_form_needs_its_token_too(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "owner", "password": "pw-for-tests-123"})
    assert response.status_code == 403


def test_an_htmx_post_with_the_pages_header_token_goes_through(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["owner"])
    slug = world.project.slug
    page = client.get(reverse("project-settings", args=[slug]))
    token = HX_HEADERS.search(page.content.decode()).group(1)
    url = reverse("member-update", args=[slug, world.membership.pk])
    response = client.post(url, {"role": "lead"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert "annotator_b" in response.content.decode()
    world.membership.refresh_from_db()
    assert world.membership.role == "lead"
    # The same post without the header is refused.
    refused = client.post(url, {"role": "annotator"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 403


def test_a_session_api_post_with_the_token_goes_through_and_token_auth_needs_none(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["annotator_a"])
    page = client.get(reverse("project-detail", args=[world.project.slug]))
    token = HX_HEADERS.search(page.content.decode()).group(1)
    url = reverse("api-queue-next", args=[world.project.slug])
    assert client.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200
    # An API token is not a cookie: a cross-site page cannot send it, so no CSRF check.
    key = Token.objects.create(user=world.users["annotator_a"]).key
    bare = Client(enforce_csrf_checks=True)
    assert bare.post(url, HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
