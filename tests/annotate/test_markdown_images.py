"""External images in rendered Markdown (issue #12): a tracking pixel in an issue must not
load. Images are links (text and URL) unless the project allows external images; data:
URIs never load."""

import pytest
from django.urls import reverse

from annotate.markdown import render_markdown
from tests.factories import AssignmentFactory, IssueFactory, ItemFactory

PIXEL = "https://tracker.example/p.gif?who=me"
IMAGES = [
    f"![a pixel]({PIXEL})",
    f'<img src="{PIXEL}" alt="a pixel" width="1" height="1">',
    f"<p>text <IMG SRC='{PIXEL}' alt='a pixel'></p>",
    f"[![a pixel]({PIXEL})](https://example.org/)",
]


@pytest.mark.parametrize("text", IMAGES)
def test_external_images_are_links_by_default(text):
    html = render_markdown(text)
    assert "<img" not in html.lower()
    assert 'href="https://tracker.example/p.gif?who=me"' in html
    assert "a pixel" in html


@pytest.mark.parametrize("text", IMAGES)
def test_a_project_that_allows_them_shows_external_images(text):
    html = render_markdown(text, external_images=True)
    assert '<img src="https://tracker.example/p.gif?who=me"' in html


@pytest.mark.parametrize(
    "text",
    [
        "![inline](data:image/png;base64,iVBORw0KGgo=)",
        '<img src="data:image/svg+xml,<svg onload=alert(1)>" alt="inline">',
        "![relative](//tracker.example/p.gif)",
        "![relative](/static/x.png)",
        "![plain http](http://tracker.example/p.gif)",
        '<img src="javascript:alert(1)" alt="inline">',
    ],
)
@pytest.mark.parametrize("allowed", [False, True])
def test_data_uris_and_non_https_sources_never_load(text, allowed):
    """Only https images may load (the policy's img-src gains https: alone)."""
    html = render_markdown(text, external_images=allowed)
    assert "<img" not in html.lower()
    assert "data:" not in html and "javascript:" not in html


def test_hostile_alt_text_stays_text():
    html = render_markdown(f'<img src="{PIXEL}" alt="&quot;><script>alert(1)</script>">')
    assert "<script" not in html and "&lt;script&gt;" in html


def test_the_issue_page_follows_the_project_setting(project, cast, client_for):
    issue = IssueFactory(body=f"Screenshot: ![a pixel]({PIXEL})")
    item = ItemFactory(project=project, issue=issue)
    AssignmentFactory(item=item, annotator=cast["annotator_a"])
    annotator = client_for(cast["annotator_a"])
    url = reverse("label-item", args=[project.slug, item.pk])
    page = annotator.get(url)
    assert page.status_code == 200
    assert "tracker.example/p.gif" in page.content.decode()
    assert "<img" not in page.content.decode()
    assert "https:" not in page["Content-Security-Policy"]

    owner = client_for(cast["owner"])
    settings_page = owner.get(reverse("project-settings", args=[project.slug])).content.decode()
    assert 'name="allow_external_images"' in settings_page
    saved = owner.post(
        reverse("project-settings", args=[project.slug]),
        {
            "save_settings": "1",
            "name": project.name,
            "overlap": 2,
            "assignment_timeout_minutes": 120,
            "allow_external_images": "on",
        },
    )
    assert saved.status_code == 302
    project.refresh_from_db()
    assert project.allow_external_images
    page = annotator.get(url)
    assert f'<img src="{PIXEL.replace("&", "&amp;")}"' in page.content.decode()
    img_src = [p for p in page["Content-Security-Policy"].split(";") if "img-src" in p][0]
    assert "https:" in img_src and "data:" in img_src


def test_only_owners_change_the_image_setting(project, cast, client_for):
    for who in ("lead", "annotator_a"):
        response = client_for(cast[who]).post(
            reverse("project-settings", args=[project.slug]),
            {"save_settings": "1", "name": "x", "overlap": 2, "assignment_timeout_minutes": 1,
             "allow_external_images": "on"},
        )  # fmt: skip
        assert response.status_code == 403
    project.refresh_from_db()
    assert not project.allow_external_images
