"""Content-Security-Policy and the CSRF cookie (issue #12): every page sends the policy,
no template or rendered page holds inline script, event-handler attributes or <style>
elements, and no script can read the CSRF cookie."""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.test import Client
from django.urls import reverse

from .test_blindness import _get_urls

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REQUIRED = {
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "style-src": "'self'",
    "default-src": "'self'",
}


def policy(response) -> dict[str, str]:
    header = response.get("Content-Security-Policy", "")
    return {
        part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()
    }


class ActiveContent(HTMLParser):
    """Inline scripts, event-handler and hx-on attributes, javascript: URLs, <style>."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            if attrs.get("type") not in ("application/json",):
                self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"{tag} {name}=javascript:")


def active_content(text: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(text)
    return parser.found


def test_no_template_holds_inline_script_handlers_or_style_elements():
    found = {}
    for path in TEMPLATES.rglob("*.html"):
        text = re.sub(
            r"{% comment %}.*?{% endcomment %}|{%.*?%}|{{.*?}}|{#.*?#}",
            "x",
            path.read_text(),
            flags=re.S,
        )
        problems = active_content(text)
        if problems:
            found[str(path.relative_to(TEMPLATES))] = problems
    assert found == {}


def test_every_page_sends_the_policy_and_renders_no_inline_script(world):
    urls = _get_urls(world, list(world.items))
    client = Client(raise_request_exception=False)
    client.force_login(world.users["owner"])
    checked, problems = 0, []
    docs = (reverse("api-docs"), reverse("api-redoc"))  # their own policy, tested below
    for url in [u for u in urls if u not in docs] + ["/accounts/password_change/"]:
        response = client.get(url, HTTP_ACCEPT="text/html,*/*")  # the browsable API too
        if response.status_code >= 500:
            problems.append((url, response.status_code))
            continue
        directives = policy(response)
        for name, value in REQUIRED.items():
            if directives.get(name) != value:
                problems.append((url, name, directives.get(name)))
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
            found = active_content(response.content.decode())
            if found:
                problems.append((url, found))
            checked += 1
    assert checked > 30
    assert problems == []


def test_the_csrf_cookie_is_httponly_and_the_page_carries_the_token(cast):
    client = Client()
    page = client.get(reverse("login"))
    assert client.cookies["csrftoken"]["httponly"]
    client.force_login(cast["owner"])
    home = client.get(reverse("home")).content.decode()
    assert re.search(r'hx-headers=\'\{"X-CSRFToken": "[A-Za-z0-9]{32,64}"\}\'', home)
    assert page.status_code == 200


def test_api_docs_load_their_script_from_a_url_under_a_specific_policy(cast):
    client = Client()
    client.force_login(cast["owner"])
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    body = docs.content.decode()
    directives = policy(docs)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert [p for p in active_content(body) if p != "<style> element"] == []
    script = re.search(r'<script src="([^"]*script=[^"]*)"', body).group(1)
    response = client.get(script.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
