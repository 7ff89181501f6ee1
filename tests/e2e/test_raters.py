"""A lead adds a built-in machine rater in Chromium, runs it (a real Celery worker on Redis
takes the run; htmx shows its progress and then its cross-validated accuracy), and reads
the human-machine agreement and the delegation curve."""

import pytest
import redis
from django.conf import settings

from annotate.models import RaterRun
from mining.synthetic import generate_issues
from tests.annotate.test_import_worker import _start_worker
from tests.builders import LabelBuilder
from tests.factories import IssueFactory

pytestmark = pytest.mark.worker


def _labeled_project(project, cast):
    """24 synthetic issues: 18 settled (their generating labels), the first 8 of them also
    labeled by both annotators; 6 still open."""
    build = LabelBuilder(project)
    for position, issue in enumerate(generate_issues("QwenLM", "Qwen2.5", 24, seed=5)):
        item = build.item(position=position)
        IssueFactory._meta.model.objects.filter(pk=item.issue_id).update(
            title=issue["title"], body=issue["body"]
        )
        truth = issue["_truth"]
        if position < 8:
            build.annotate(item, cast["annotator_a"], [truth])
            build.annotate(item, cast["annotator_b"], [truth])
        if position < 18:
            build.settle(item, [truth])


def test_a_lead_adds_runs_and_reads_a_machine_rater(
    page, live_server, login, project, cast, tmp_path, import_upload_dir
):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    _labeled_project(project, cast)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/raters/")
    page.select_option("#id_kind", "builtin")
    page.fill("#id_name", "tf-idf baseline")
    page.fill("#id_seed", "1")
    page.click("#add-rater button[type=submit]")
    rater = page.locator('[data-rater="tf-idf baseline"]')
    rater.wait_for()
    assert "Rater tf-idf baseline added." in page.content()
    rater.locator("button.start-run").click()
    page.wait_for_selector('[data-run="1"][data-status="queued"]')

    log = tmp_path / "worker.log"
    worker = _start_worker(log, import_upload_dir)
    try:
        # htmx polls the runs while one is active and swaps in the finished run.
        page.wait_for_selector('[data-run="1"][data-status="succeeded"]', timeout=90_000)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    run = RaterRun.objects.get()
    assert run.status == "succeeded", run.error + log.read_text()[-2000:]
    row = page.locator('[data-run="1"]')
    assert "24 / 24" in row.inner_text()
    assert row.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    accuracy = page.locator("tr.training").inner_text()
    assert "Cross-validated accuracy before rating (2-fold, 18 settled records)" in accuracy
    assert "symptom L1" in accuracy

    page.click("#rater-agreement-link")
    report = page.locator('.rater-report[data-rater="tf-idf baseline"]')
    report.wait_for()
    header = report.locator("table.human-machine thead").inner_text()
    for column in ("vs final labels", "vs human majority", "vs annotator_a", "vs annotator_b"):
        assert column in header
    stage = report.locator('table.human-machine tr[data-dimension="stage"]').inner_text()
    assert "κ" in stage and "n 18" in stage  # against the final labels of 18 items
    curve = report.locator('table.delegation[data-dimension="all"]')
    first = curve.locator("tbody tr").first.inner_text()
    assert first.startswith("0.0") and "1.000" in first  # every item at threshold 0
    assert curve.locator("tbody tr").count() == 8
    assert page.dialogs == []


def test_the_runs_refresh_leaves_a_half_typed_change_alone(page, live_server, login, project, cast):
    """While a run is active the runs list refreshes every second; it replaced the "Change
    or remove" form with it, so a lead's half-typed change vanished within a second. The
    refresh waits while that form is open and resumes once it is closed."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/raters/")
    page.select_option("#id_kind", "builtin")
    page.fill("#id_name", "tf-idf baseline")
    page.click("#add-rater button[type=submit]")
    rater = page.locator('[data-rater="tf-idf baseline"]')
    rater.locator("button.start-run").click()  # no worker: the run stays queued, the list polls
    page.wait_for_selector('[data-run="1"][data-status="queued"]')
    rater = page.locator('[data-rater="tf-idf baseline"]')
    rater.locator("details.rater-settings summary").click()
    name = rater.locator("input[name$='-name']")
    name.fill("tf-idf, renamed")
    polls = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith("/raters/") else None)
    page.wait_for_timeout(2500)  # two ticks and more
    assert polls == []
    assert name.input_value() == "tf-idf, renamed"
    assert "stops refreshing while this is open" in rater.inner_text()
    # Closed again, the list refreshes and shows what changed meanwhile.
    RaterRun.objects.update(status=RaterRun.Status.FAILED, error="stopped by the test")
    rater.locator("details.rater-settings summary").click()
    page.wait_for_selector('[data-run="1"][data-status="failed"]', timeout=5000)
    assert polls
