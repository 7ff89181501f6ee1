"""Bad query parameters of the analysis views: an HTML page answers 400 inside the normal
layout with the value escaped; a download answers a text/plain 400 (issue #12)."""

import pytest

PAYLOAD = "<svg/onload=alert(1)>"

PAGES = [
    ("agreement/", "level"),
    ("distributions/", "view"),
    ("distributions/", "level"),
    ("distributions/", "dimension"),
    ("distributions/", "source"),
]
DOWNLOADS = [
    ("agreement/chart.svg", "level"),
    ("agreement/tables/summary.csv", "level"),
    ("agreement/tables/pairs.tex", "level"),
    ("distributions/charts/rq1/bars.svg", "source"),
    ("distributions/charts/rq1/bars.png", "level"),
    ("distributions/charts/rq1/bars.pdf", "dimension"),
    ("distributions/tables/rq1.csv", "source"),
    ("distributions/tables/rq1.tex", "view"),
    ("distributions/tables/rq4-shares.csv", "view"),
    ("distributions/tables/rq4-shares.tex", "source"),
]


@pytest.mark.parametrize(("path", "param"), PAGES)
def test_bad_parameter_page_is_escaped_400_in_layout(project, cast, client_for, path, param):
    client = client_for(cast["lead"])
    response = client.get(f"/projects/{project.slug}/{path}", {param: PAYLOAD})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert PAYLOAD not in body
    assert "&lt;svg/onload=alert(1)&gt;" in body
    assert 'class="topbar"' in body and project.name in body  # base.html with the project bar
    assert "Change" in body or "change" in body  # says what to do


@pytest.mark.parametrize(("path", "param"), DOWNLOADS)
def test_bad_parameter_download_is_text_plain_400(project, cast, client_for, path, param):
    client = client_for(cast["lead"])
    response = client.get(f"/projects/{project.slug}/{path}", {param: PAYLOAD})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in response
    assert param in response.content.decode()


def test_no_view_answers_an_error_built_from_request_text_as_html():
    """The reflected XSS of issue #12 came back once through a view written in parallel
    (the share tables): no app module may build an HTML error reply from a message again;
    pages use responses.error_page, downloads responses.error_text."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("analysis", "annotate", "mining", "config")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "HttpResponseBadRequest(" in line or "HttpResponseForbidden(" in line
    ]
    assert offenders == []
