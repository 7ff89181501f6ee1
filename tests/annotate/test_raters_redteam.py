"""Red-team findings on raters outside the endpoint's answers: a run whose worker died is
shown as stuck forever (nothing expired it but a new start), and a key put in the base
URL is shown back on every page and in every run's stored configuration."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotate.models import RaterRun
from annotate.raters import runs


def test_a_run_whose_worker_died_can_be_resumed_from_the_raters_page(project, cast, client_for):
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    run = RaterRun.objects.create(
        rater=rater, number=1, codebook_version=1, status="running", items_total=10,
        items_done=4, started_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    page = client_for(cast["lead"]).get(f"/projects/{project.slug}/raters/")
    assert page.status_code == 200
    run.refresh_from_db()
    assert run.status == "failed"
    assert f"/raters/{rater.pk}/runs/{run.pk}/resume/" in page.content.decode()


@pytest.mark.parametrize(
    "base_url",
    ["http://user:sk-in-url-123@127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1?key=sk-in-url-123"],
)
def test_a_key_in_the_base_url_is_refused_not_shown_back(project, cast, api_for, base_url):
    body = {"kind": "openai", "name": "q", "model": "m", "base_url": base_url}
    response = api_for(cast["lead"]).post(
        f"/api/projects/{project.slug}/raters/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert "base_url" in response.json()["fields"] and b"sk-in-url-123" not in response.content


def test_a_run_past_the_tasks_soft_time_limit_is_queued_again_not_failed(
    project, monkeypatch, django_capture_on_commit_callbacks
):
    from celery.exceptions import SoftTimeLimitExceeded

    from annotate.raters import builtin

    def out_of_time(run):
        raise SoftTimeLimitExceeded()

    queued = []
    monkeypatch.setattr(builtin, "rate", out_of_time)
    monkeypatch.setattr(
        "annotate.raters.tasks.run_rater_task.delay", lambda **kw: queued.append(kw)
    )
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    run = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="queued")
    assert runs.claim_rater_run(run_id=run.pk)
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_rater(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "queued" and run.error == ""
    assert queued == [{"run_id": run.pk}]


@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_queue_one_set_of_runs(cast, monkeypatch):
    import threading

    from django.db import connection

    from annotate.projects import services

    monkeypatch.setattr("annotate.raters.tasks.run_rater_task.delay", lambda **kw: None)
    project = services.create_project(name="Race", slug="race", owner=cast["owner"])
    rater = runs.add_rater(
        project=project, user=None, kind="openai", name="q", model="m",
        base_url="http://127.0.0.1:9/v1", runs_per_start=3,
    )  # fmt: skip
    barrier, outcomes = threading.Barrier(4), []

    def start():
        barrier.wait()
        try:
            outcomes.append(len(runs.start_rater_runs(rater=rater, user=None)))
        except runs.RaterBusy:
            outcomes.append("busy")
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [3, "busy", "busy", "busy"]
    assert list(RaterRun.objects.filter(rater=rater).values_list("number", flat=True)) == [1, 2, 3]


def test_hostile_evidence_and_names_in_the_machine_column_are_inert(project, cast, client_for):
    from annotate.models import RaterLabel
    from tests.builders import HANG, OOM, LabelBuilder, in_conflict, record

    build = LabelBuilder(project)
    item = in_conflict(project, cast, [record(symptom=OOM)], [record(symptom=HANG)])
    rater = runs.add_rater(
        project=project, user=None, kind="builtin", name="<img src=x onerror=alert(1)>",
        visible_in_adjudication=True,
    )  # fmt: skip
    run = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="succeeded")
    RaterLabel.objects.create(
        run=run, item=item, record=0, dimension=build.dimensions["symptom"],
        category=build.category("symptom", OOM), confidence=0.9,
        evidence="</td><script>alert('x')</script>",
    )  # fmt: skip
    url = f"/projects/{project.slug}/items/{item.pk}/machine-labels/"
    html = client_for(cast["lead"]).get(url).content.decode()
    assert "machine" in html and "&lt;script&gt;" in html
    assert "<script>" not in html and "<img" not in html
    assert client_for(cast["annotator_a"]).get(url).status_code == 403
    assert client_for(cast["outsider"]).get(url).status_code == 404
    raters_page = client_for(cast["lead"]).get(f"/projects/{project.slug}/raters/")
    assert "<img src=x" not in raters_page.content.decode()


def test_starting_a_busy_rater_does_not_fail_its_long_queued_run(project):
    # A long LLM run goes back to the queue at each task's soft time limit, and the k runs
    # of a start wait their turn: both are queued long after they were created, with a
    # message on its way. A lead's second press of Start must be told the rater is busy,
    # not fail that run (its message would then do nothing) and start another.
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    run = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="queued")
    RaterRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(runs.RaterBusy):
        runs.start_rater_runs(rater=rater, user=None)
    run.refresh_from_db()
    assert run.status == "queued" and rater.runs.count() == 1
