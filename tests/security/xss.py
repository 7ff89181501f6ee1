"""Cross-site scripting payloads, a world whose every free text carries them, and the pages
that show those texts (with the role that sees each). Shared by the fast HTML test and the
browser test (tests/e2e/test_xss.py)."""

from html.parser import HTMLParser

from django.urls import reverse

from .world import build_world

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '<a href="javascript:alert(1)">link</a>',
    "[markdown link](javascript:alert(1))",
    '<iframe src="javascript:alert(1)"></iframe>',
    '" onmouseover="alert(1)" autofocus onfocus="window.__xss=1" x="',
    "' onfocus='window.__xss=1' autofocus x='",
    "<details open ontoggle=alert(1)>",
    "{{ 7|add:7 }}{% now 'Y' %}",
]
ALL = "\n\n".join(PAYLOADS)
# Fields of limited length, and category names (which may not contain '>').
SHORT = '"><img src=x onerror="window.__xss=1"><svg onload=alert(1)>'
CATEGORY = "<img src=x onerror=window.__xss=1 x="
LIMITED = {"project_name": SHORT, "repo_group": SHORT, "release": SHORT, "category_name": CATEGORY}


def payload_text(name: str) -> str:
    return LIMITED.get(name, f"{name}: {ALL}")


def build_xss_world(cast, project):
    return build_world(cast, project, text=payload_text)


def pages(world) -> list[tuple[str, str]]:
    """(username, url) for every page that shows the payloads."""
    slug = world.project.slug
    items = world.items

    def url(name, *args, query=""):
        return reverse(name, args=[slug, *args]) + (f"?{query}" if query else "")

    annotator = [
        url("project-detail"),
        url("codebook"),
        url("label-item", items["held"].pk),
        url("label-item", items["conflict"].pk),
        url("label-item", items["settled"].pk),
        url("label-mine"),
        url("item-discussion", items["discussion"].pk),
        url("inbox"),
        url("dataset"),
        url("releases"),
        url("analysis-distributions"),
        url("browse-items"),
        url("browse-items", query="q=traceback"),
        url("browse-item", items["settled"].pk),
        url("browse-item", items["discussion"].pk),
        reverse("home"),
    ]
    views = ("rq1", "rq2", "rq3", "rq4", "rq5", "rq6", "explore")
    lead = [
        url("conflict-queue"),
        url("conflict-detail", items["conflict"].pk),
        url("conflict-detail", items["decided"].pk),
        url("conflict-detail", items["discussion"].pk),
        url("item-history", items["decided"].pk),
        url("item-history", items["conflict"].pk),
        url("item-discussion", items["discussion"].pk),
        url("inbox"),
        url("browse-items"),
        url("browse-item", items["decided"].pk),
        url("browse-item", items["conflict"].pk),
        url("codebook"),
        url("codebook-edit"),
        url("codebook-review"),
        url("analysis-agreement"),
        url("analysis-agreement", query="part=breakdowns"),
        *(url("analysis-distributions", query=f"view={view}") for view in views),
        url("analysis-distributions", query="source=annotator:annotator_a"),
        url("analysis-reporting"),
        url("mining-repositories"),
        url("mining-jobs"),
        url("mining-job", world.job.pk),
        url("mining-pool"),
        url("dataset"),
        url("releases"),
    ]
    owner = [
        url("project-settings"),
        url("dataset-import"),
        url("dataset-import-job", world.import_job.pk),
        url("releases"),
    ]
    return (
        [("annotator_a", u) for u in annotator]
        + [("lead", u) for u in lead]
        + [("owner", u) for u in owner]
    )


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class ActiveContent(HTMLParser):
    """Collects what a browser would run: scripts with payload code, event handlers and
    javascript: URLs that came from a payload, and elements a payload names."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: list | None = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and ("alert(" in value or "__xss" in value):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "iframe":
            self.found.append("<iframe>")
        if tag == "script" and dict(attrs).get("type") not in ("application/json",):
            self._script = []

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            code = "".join(self._script)
            if "alert(" in code or "__xss" in code:
                self.found.append(f"<script>{code[:80]}")
            self._script = None


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.found
