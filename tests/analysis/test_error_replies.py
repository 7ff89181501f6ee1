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
