"""A rater's endpoint key never shows on Django's technical 500 page (DEBUG) or in the
error report and log of a failed request: the views that receive it declare it a
sensitive POST parameter and the functions that hold it sensitive variables."""

import logging

import pytest
from django.test import Client

from annotate.models import Rater

KEY = "sk-live-7f3a9c1e55d2"


@pytest.fixture
def failing_save(monkeypatch):
    """A view error while the key is in hand: saving the rater fails (a dropped database
    connection, say) after the key was read, validated and sealed."""

    def broken(self, *args, **kwargs):
        raise RuntimeError("the database connection was lost")

    monkeypatch.setattr(Rater, "save", broken)


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


BODY = {
    "kind": "openai",
    "name": "hosted",
    "model": "gpt-x",
    "api_key": KEY,
    "base_url": "https://llm.example.org/v1",
    "temperature": "0",
    "runs_per_start": "1",
}


@pytest.mark.parametrize("how", ["page form", "api form", "api json", "page change", "api change"])
def test_the_key_is_not_on_the_technical_500_page_nor_in_the_log(
    project, cast, settings, failing_save, caplog, how
):
    settings.DEBUG = True
    client = _client(cast["lead"])
    caplog.set_level(logging.DEBUG)
    # bulk_create: the broken save() is not called (a rater to change).
    (rater,) = Rater.objects.bulk_create(
        [Rater(project=project, kind="openai", name="old", model="m", base_url="http://h/v1")]
    )
    base = f"/projects/{project.slug}/raters/{rater.pk}/"
    if how == "page change":
        prefix = f"rater-{rater.pk}-"
        change = {prefix + name: value for name, value in BODY.items() if name != "kind"}
        response = client.post(base + "edit/", change)
    elif how == "api change":
        response = client.patch(
            "/api" + base, {"api_key": KEY, "name": "new"}, content_type="application/json"
        )
    elif how == "page form":
        response = client.post(f"/projects/{project.slug}/raters/", BODY)
    elif how == "api form":
        response = client.post(f"/api/projects/{project.slug}/raters/", BODY)
    else:
        response = client.post(
            f"/api/projects/{project.slug}/raters/", BODY, content_type="application/json"
        )
    assert response.status_code == 500
    page = response.content.decode()
    # The technical page it is, with the frames' variables: the key is not among them.
    assert "the database connection was lost" in page and "Local vars" in page
    assert KEY not in page
    assert "Internal Server Error" in caplog.text and KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()
    assert not Rater.objects.exclude(name="old").exists()
