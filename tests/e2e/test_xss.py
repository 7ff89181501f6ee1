"""Cross-site scripting in a real browser: every page that shows user or GitHub text, with
every such text full of payloads, visited by the role that sees it. No dialog opens and no
payload runs (the payloads that do not alert set window.__xss)."""

from urllib.parse import quote

import pytest
from django.core.cache import cache

from tests.security.xss import build_xss_world, pages


@pytest.fixture
def xss_world(cast, project, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return build_xss_world(cast, project)


def test_no_payload_runs_on_any_page(page, live_server, login, xss_world):
    visited, ran = 0, []
    current = None
    for username, url in pages(xss_world):
        if username != current:
            login(page, username)
            current = username
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        if "/label/" in url and page.locator("[data-action=add-record]").count():
            # The workspace copies a record template and filters categories as one types.
            page.locator("[data-action=add-record]").first.click()
            page.keyboard.type("<img src")
            page.keyboard.press("ArrowDown")
        if page.dialogs or page.evaluate("() => window.__xss !== undefined"):
            ran.append((username, url, list(page.dialogs)))
            page.dialogs.clear()
        visited += 1
    assert visited == len(pages(xss_world))
    assert not ran
    # The same checks do see a payload that runs (on a blank page: the site's policy would
    # block the inline handlers).
    page.goto("about:blank")
    page.set_content('<img src=x onerror="alert(1)"><img src=y onerror="window.__xss=1">')
    page.wait_for_function("() => window.__xss === 1")
    assert page.dialogs == ["1"]


# --- the query-parameter sweep (issue #12) ------------------------------------------------

SWEEP_PAYLOAD = "\"'><svg onload=window.__xss=1><img src=x onerror=alert(1)>"
RENDERED = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml")


def _sweep_plan(world):
    """(username, url, param) for every GET route and every parameter it reads: each
    parameter alone, then all of them at once; plus error replies with the payload in
    the path. Pages run as the first of owner, lead, annotator allowed to see them."""
    from tests.security.query_params import params_for
    from tests.security.routes import all_routes
    from tests.security.test_permission_matrix import MATRIX, USERS

    plan = []
    for route in all_routes():
        expect = MATRIX.get((route.key, "GET"))
        if route.text.startswith("admin/") or expect is None:
            continue
        # A route no role opens with the world's ids (an invitation link with a made-up
        # token) is still swept as the owner: its error reply must escape the payload too.
        role = next(
            (r for r in ("owner", "lead", "annotator") if expect.statuses[r] in (200, 302)),
            "owner",
        )
        values = {**world.kwargs(expect.item), "uidb64": "MQ", "token": "x-y", **expect.params}
        path = route.path(values)
        base = [expect.query] if expect.query else []
        names = params_for(route)
        for name in [*names, None]:
            chosen = [name] if name else names
            query = "&".join(base + [f"{n}={quote(SWEEP_PAYLOAD)}" for n in chosen])
            plan.append((USERS[role], f"{path}?{query}", name or "*"))
    slug = world.project.slug
    for path in (
        f"/projects/{quote(SWEEP_PAYLOAD)}/",
        f"/projects/{slug}/distributions/charts/{quote(SWEEP_PAYLOAD)}/bars.svg",
        f"/projects/{slug}/items/{quote(SWEEP_PAYLOAD)}/history/",
        f"/api/projects/{quote(SWEEP_PAYLOAD)}/",
    ):
        plan.append(("owner", path, "path"))
    return plan


def _flag_set(page) -> bool:
    """window.__xss on the page the navigation ended on (a page may navigate on by itself,
    e.g. a redirect: then ask the new one)."""
    from playwright.sync_api import Error

    for _ in range(3):
        try:
            page.wait_for_load_state("load")
            return page.evaluate("() => window.__xss !== undefined")
        except Error:
            continue
    raise AssertionError(f"{page.url} kept navigating")


@pytest.fixture
def sweep_world(cast, project, settings, tmp_path):
    from tests.security.world import build_world

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return build_world(cast, project)


def test_no_query_parameter_payload_runs_or_comes_back_unescaped(
    page, live_server, login, sweep_world
):
    """Every GET route, every query parameter it reads (tests/security/query_params.py),
    and error replies carry a payload: in Chromium no dialog opens and the window flag stays
    unset; an HTML reply holds the payload only escaped; any other reply is a download or a
    type no browser renders as a document; nothing is a 5xx; no CSP violation is reported."""
    from playwright.sync_api import Error

    plan = _sweep_plan(sweep_world)
    problems, current, navigations = [], None, 0
    for username, url, param in sorted(plan, key=lambda entry: entry[0]):
        if username != current:
            page.context.clear_cookies()
            login(page, username)
            current = username
        full = live_server.url + url
        try:
            response = page.goto(full, wait_until="load")
        except Error:  # an attachment: the browser downloads it instead of rendering it
            response = None
        navigations += 1
        reply = page.request.get(full, max_redirects=0) if response is None else response
        headers = reply.headers
        kind = headers.get("content-type", "")
        attachment = "attachment" in headers.get("content-disposition", "")
        if reply.status >= 500:
            problems.append((url, param, reply.status))
        elif kind.startswith(RENDERED) and not attachment:
            if SWEEP_PAYLOAD in reply.text():
                problems.append((url, param, "unescaped"))
        elif response is not None and not attachment:
            shown_as_text = ("text/plain", "application/json", "text/csv", "application/javascript")
            if not kind.startswith(shown_as_text):
                problems.append((url, param, f"rendered as {kind}"))
        if page.dialogs or _flag_set(page):
            problems.append((url, param, "ran", list(page.dialogs)))
            page.dialogs.clear()
    assert navigations == len(plan) > 150
    assert problems == []
    # Redoc's bundle draws its logo from its CDN, which the policy blocks (tests/e2e/test_csp.py).
    page.csp_violations[:] = [v for v in page.csp_violations if "cdn.redoc.ly" not in v]
