"""403 and 404 answer inside the app's layout (issue #15, defect 4), also with DEBUG on, as
`make run` has it: Django answers a view's Http404 with its technical page there."""

from django.test import override_settings

from tests.security.xss import SHORT


def _templates(response) -> set[str]:
    return {t.name for t in response.templates}


@override_settings(DEBUG=True)
def test_a_missing_project_under_debug_is_our_404_page(client_for, project, cast):
    response = client_for(cast["lead"]).get("/projects/no-such-project/agreement/")
    assert response.status_code == 404
    assert {"404.html", "base.html"} <= _templates(response)
    text = response.content.decode()
    assert "No such project." in text
    assert 'href="/"' in text and "go to your projects" in text
    assert "technical_404" not in text and "Django tried" not in text


def test_an_address_without_a_page_is_our_404_page(client_for, cast):
    response = client_for(cast["lead"]).get(f"/no-page-here/{SHORT}/")
    assert response.status_code == 404
    assert "404.html" in _templates(response)
    assert "There is no page at this address." in response.content.decode()
    assert "<img src=x" not in response.content.decode()


@override_settings(DEBUG=True)
def test_a_forbidden_page_under_debug_is_our_403_page(client_for, project, cast):
    response = client_for(cast["annotator_a"]).get(f"/projects/{project.slug}/agreement/")
    assert response.status_code == 403
    assert {"403.html", "base.html"} <= _templates(response)
    text = response.content.decode()
    assert "Your role in this project does not allow this." in text
    assert "ask the project's owner or a lead" in text


def test_the_api_keeps_its_json_404(api_for, cast):
    response = api_for(cast["lead"]).get("/api/projects/no-such-project/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_a_bad_filter_by_htmx_answers_only_the_result_area(client_for, project, cast):
    url = f"/projects/{project.slug}/distributions/"
    response = client_for(cast["lead"]).get(url, {"source": SHORT}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith('<div id="panel" class="analysis-body">')
    assert "<html" not in text and "<img src=x" not in text
    assert 'role="alert"' in text
