"""Why a run's items failed is shown to leads: on the run's page (counts per reason and
the failed items with their reason, paginated) and in the run's API detail; annotators see
neither, and the endpoint's words and the issues' titles are escaped."""

import pytest

from annotate.raters import runs
from annotate.raters.tasks import run_rater_task
from tests.builders import record
from tests.factories import IssueFactory, ItemFactory
from tests.openai_endpoint import Endpoint

HOSTILE = "<script>alert('t')</script>"


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.RATER_HTTP_TIMEOUT_SECONDS = 1.0
    settings.RATER_HTTP_ATTEMPTS = 2
    settings.RATER_BACKOFF_SECONDS = 0.01
    settings.RATER_ANSWER_ATTEMPTS = 2


@pytest.fixture
def failed_run(project):
    scripts = ["valid", "bad-json", "unknown", "slow", "limited"]
    for position, script in enumerate(scripts):
        title = f"{HOSTILE} fails [[{script}]]"
        ItemFactory(project=project, issue=IssueFactory(title=title), position=position)
    with Endpoint(answer=record(), slow_seconds=2.5) as endpoint:
        rater = runs.add_rater(
            project=project, user=None, kind="openai", name="local", model="m",
            base_url=endpoint.url,
        )  # fmt: skip
        (run,) = runs.start_rater_runs(rater=rater, user=None)
        run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.failed_items == 4
    return run


def test_the_run_detail_counts_failures_per_reason_and_lists_them(
    project, cast, api_for, failed_run
):
    run = failed_run
    url = f"/api/projects/{project.slug}/raters/{run.rater_id}/runs/{run.pk}/"
    assert api_for(cast["annotator_a"]).get(url).status_code == 403
    failures = api_for(cast["lead"]).get(url).json()["failures"]
    assert failures["total"] == 4 and failures["items_shown"] == 4
    assert {row["reason"]: row["count"] for row in failures["by_reason"]} == {
        "invalid_json": 1,
        "invalid_answer": 1,
        "timeout": 1,
        "rate_limited": 1,
    }
    by_position = {row["position"]: row for row in failures["items"]}
    assert [by_position[p]["reason"] for p in (1, 2, 3, 4)] == [
        "invalid_json", "invalid_answer", "timeout", "rate_limited",
    ]  # fmt: skip
    assert "unknown category" in by_position[2]["error"]
    assert by_position[4]["error"] == "rate limited (429) after 2 attempts"
    assert by_position[1]["title"].startswith(HOSTILE)


def test_the_run_page_shows_reasons_and_failed_items_escaped_and_paginated(
    project, cast, client_for, failed_run, monkeypatch
):
    run = failed_run
    url = f"/projects/{project.slug}/raters/{run.rater_id}/runs/{run.pk}/"
    assert client_for(cast["annotator_a"]).get(url).status_code == 403
    assert client_for(cast["outsider"]).get(url).status_code == 404
    lead = client_for(cast["lead"])
    raters_page = lead.get(f"/projects/{project.slug}/raters/").content.decode()
    assert f'href="{url}"' in raters_page
    page = lead.get(url).content.decode()
    for label in ("invalid JSON after retries", "answer not valid against the codebook",
                  "timeout after retries", "rate limited (429) after retries"):  # fmt: skip
        assert label in page
    assert "no answer within 1 s after 2 attempts" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page
    monkeypatch.setattr("annotate.raters.views.FAILURES_PER_PAGE", 3)
    first, second = lead.get(url).content.decode(), lead.get(url + "?page=2").content.decode()
    assert first.count("<tr data-item=") == 3 and second.count("<tr data-item=") == 1
    assert "page 2 of 2" in second
