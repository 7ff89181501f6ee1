"""The OpenAI-compatible rater against our own scripted endpoint (real HTTP on localhost):
valid answers become labels with token counts and time; invalid JSON and unknown
categories are retried, then recorded as failures and never as labels; timeouts and 429s
are retried with backoff; a quote that is not in the issue's text is flagged and counted;
k runs; the key is sent to the endpoint and never shown back."""

import pytest

from annotate.models import RaterItem, RaterLabel, RaterRun
from annotate.raters import runs
from annotate.raters.tasks import run_rater_task
from annotate.raters.texts import ItemText, quote_in_any, squash
from tests.builders import record
from tests.factories import CommentFactory, IssueFactory, ItemFactory
from tests.openai_endpoint import Endpoint


@pytest.fixture(autouse=True)
def fast_client(settings):
    # Generous: a loaded CI machine must not turn a quick answer into a timeout.
    settings.RATER_HTTP_TIMEOUT_SECONDS = 2.0
    settings.RATER_HTTP_ATTEMPTS = 2
    settings.RATER_BACKOFF_SECONDS = 0.01
    settings.RATER_ANSWER_ATTEMPTS = 2


@pytest.fixture
def endpoint():
    with Endpoint(answer=record(), slow_seconds=4.0) as server:
        yield server


def _item(project, script: str, position: int):
    title = f"CUDA out of memory on A100 [[{script}]]"
    return ItemFactory(project=project, issue=IssueFactory(title=title), position=position)


def _rater(project, endpoint, **options):
    return runs.add_rater(
        project=project, user=None, kind="openai", name="qwen-local", model="qwen2.5-7b",
        base_url=endpoint.url, api_key="sk-test-secret", seed=7, **options,
    )  # fmt: skip


def _run(rater, user=None) -> RaterRun:
    (run,) = runs.start_rater_runs(rater=rater, user=user)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    return run


def _outcome(run, item) -> RaterItem:
    return RaterItem.objects.get(run=run, item=item)


def test_valid_answers_become_labels_with_tokens_time_and_found_quotes(project, endpoint):
    items = [_item(project, "valid", n) for n in range(3)]
    run = _run(_rater(project, endpoint))
    assert run.status == "succeeded", run.error
    assert (run.items_total, run.items_done, run.failed_items) == (3, 3, 0)
    assert (run.prompt_tokens, run.completion_tokens) == (300, 60)
    assert run.seconds > 0 and run.labels_written == 9 and run.quotes_not_found == 0
    labels = RaterLabel.objects.filter(run=run, item=items[0]).select_related("category")
    assert {label.category.path for label in labels} == set(record().values())
    assert all(label.quote_found and label.confidence == 0.9 for label in labels)
    assert run.config["model"] == "qwen2.5-7b" and "sk-test" not in str(run.config)
    sent = endpoint.requests[0]
    assert sent["model"] == "qwen2.5-7b" and sent["seed"] == 7 and sent["temperature"] == 0.0
    # The prompt carries the codebook's definitions.
    assert "Crash > CUDA Error > Out of Memory" in sent["messages"][0]["content"]
    assert endpoint.headers[0]["Authorization"] == "Bearer sk-test-secret"


def test_invalid_json_is_retried_then_recorded_as_a_failure_never_a_label(project, endpoint):
    bad, flaky = _item(project, "bad-json", 0), _item(project, "bad-json-once", 1)
    run = _run(_rater(project, endpoint))
    assert run.status == "succeeded"
    assert endpoint.calls["bad-json"] == 2 and endpoint.calls["bad-json-once"] == 2
    failed = _outcome(run, bad)
    assert failed.outcome == "failed" and "invalid answer: the answer is not JSON" in failed.error
    assert not RaterLabel.objects.filter(run=run, item=bad).exists()
    assert _outcome(run, flaky).outcome == "labeled"
    assert RaterLabel.objects.filter(run=run, item=flaky).count() == 3
    assert (run.invalid_answers, run.failed_items, run.items_done) == (3, 1, 2)


def test_an_unknown_category_is_invalid(project, endpoint):
    item = _item(project, "unknown", 0)
    run = _run(_rater(project, endpoint))
    outcome = _outcome(run, item)
    assert outcome.outcome == "failed"
    assert "'symptom': unknown category \"Crash > Meltdown\"" in outcome.error
    assert not RaterLabel.objects.filter(run=run).exists()
    assert run.invalid_answers == 2


def test_timeouts_and_429_are_retried_with_backoff(project, endpoint):
    slow, slow_once = _item(project, "slow", 0), _item(project, "slow-once", 1)
    limited = _item(project, "limited-once", 2)
    run = _run(_rater(project, endpoint))
    assert endpoint.calls["slow"] == 2  # RATER_HTTP_ATTEMPTS
    failed = _outcome(run, slow)
    assert failed.outcome == "failed" and "no answer within 2 s after 2 attempts" in failed.error
    assert _outcome(run, slow_once).outcome == "labeled"
    assert _outcome(run, slow_once).attempts == 2
    assert endpoint.calls["limited-once"] == 2
    assert _outcome(run, limited).outcome == "labeled"
    assert run.failed_items == 1 and run.invalid_answers == 0


def test_a_quote_not_in_the_text_is_flagged_and_counted(project, endpoint):
    item = _item(project, "misquote", 0)
    run = _run(_rater(project, endpoint))
    label = RaterLabel.objects.get(run=run, item=item, dimension__key="symptom")
    assert label.evidence == "a sentence nobody wrote" and not label.quote_found
    assert RaterLabel.objects.get(run=run, item=item, dimension__key="stage").quote_found
    assert run.quotes_not_found == 1


def test_out_of_scope_answers_write_no_labels(project, endpoint):
    item = _item(project, "out", 0)
    run = _run(_rater(project, endpoint))
    assert _outcome(run, item).outcome == "out_of_scope"
    assert not RaterLabel.objects.filter(run=run).exists()


def test_k_runs_are_queued_and_each_item_is_rated_once_per_run(project, endpoint):
    _item(project, "valid", 0)
    rater = _rater(project, endpoint, runs_per_start=3)
    started = runs.start_rater_runs(rater=rater, user=None)
    assert [r.number for r in started] == [1, 2, 3]
    with pytest.raises(runs.RaterBusy):
        runs.start_rater_runs(rater=rater, user=None)
    for run in started:
        run_rater_task(run_id=run.pk)
        run_rater_task(run_id=run.pk)  # a redelivered message: claimed already, nothing
    assert endpoint.calls["valid"] == 3
    assert RaterItem.objects.filter(run__rater=rater).count() == 3
    assert set(RaterRun.objects.filter(rater=rater).values_list("status", flat=True)) == {
        "succeeded"
    }


def test_a_failed_run_resumes_from_the_items_it_has_not_done(project, endpoint):
    done, left = _item(project, "valid", 0), _item(project, "valid", 1)
    rater = _rater(project, endpoint)
    (run,) = runs.start_rater_runs(rater=rater, user=None)
    run_rater_task(run_id=run.pk)
    # As if the worker died after the first item: the second item's work is undone.
    RaterItem.objects.filter(run=run, item=left).delete()
    RaterLabel.objects.filter(run=run, item=left).delete()
    RaterRun.objects.filter(pk=run.pk).update(status="failed", items_done=1)
    before = endpoint.calls["valid"]
    runs.resume_rater_run(run=run)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.items_done == 2
    assert endpoint.calls["valid"] == before + 1  # only the item left
    assert RaterItem.objects.filter(run=run).count() == 2
    assert RaterLabel.objects.filter(run=run, item=done).count() == 3


def test_an_unreachable_endpoint_fails_items_not_the_worker(project, settings):
    item = _item(project, "valid", 0)
    rater = runs.add_rater(
        project=project, user=None, kind="openai", name="nowhere", model="m",
        base_url="http://127.0.0.1:9/v1",
    )  # fmt: skip
    run = _run(rater)
    assert run.status == "succeeded"
    outcome = _outcome(run, item)
    assert outcome.outcome == "failed" and "could not be reached" in outcome.error


def test_a_quote_of_the_prompt_rather_than_the_issue_is_not_found(project, endpoint):
    # The prompt's headings ("Title:", "Comment 1:") and a quote running from the title
    # over the "Body:" heading into the body are in the prompt, not in the issue's text.
    item = ItemFactory(
        project=project,
        issue=IssueFactory(title="Trainer crashes [[quote-heading]]", body="Traceback: boom"),
        position=0,
    )
    CommentFactory(issue=item.issue, body="Same here on 2.1.")
    run = _run(_rater(project, endpoint))
    labels = RaterLabel.objects.filter(run=run, item=item)
    assert {label.evidence: label.quote_found for label in labels} == {
        "Title:": False,
        "Comment 1:": False,
        "heading]]\n\nBody:\nTraceback: b": False,
    }
    assert run.quotes_not_found == 3


def test_the_issue_text_given_is_what_the_prompt_kept_without_its_headings():
    text = ItemText(1, "Crash on start", "Traceback here", ["first comment", "second"])
    prompt = text.for_prompt(60)
    assert prompt == "Title: Crash on start\n\nBody:\nTraceback here\n\nComment 1:\nfirs"
    assert text.given(60) == ["Crash on start", "Traceback here", "firs"]
    assert text.given(10) == ["Cra"]
    assert not quote_in_any("Body:", [squash(part) for part in text.given(1000)])
    assert quote_in_any("TRACEBACK   here", [squash(part) for part in text.given(1000)])


def test_a_resumed_run_asks_with_the_configuration_it_started_with(project, endpoint):
    # A lead changes the model, temperature and seed between the failure and the resume:
    # that changes the rater's next runs; this run's remaining items are asked as it began.
    items = [_item(project, "valid", n) for n in range(2)]
    rater = _rater(project, endpoint)
    (run,) = runs.start_rater_runs(rater=rater, user=None)
    run_rater_task(run_id=run.pk)
    RaterItem.objects.filter(run=run, item=items[1]).delete()  # as if the worker died
    RaterLabel.objects.filter(run=run, item=items[1]).delete()
    RaterRun.objects.filter(pk=run.pk).update(status="failed", items_done=1)
    runs.change_rater(rater=rater, user=None, model="other-model", temperature=1.5, seed=99)
    asked = len(endpoint.requests)
    runs.resume_rater_run(run=run)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.items_done == 2
    resumed = {(r["model"], r["temperature"], r.get("seed")) for r in endpoint.requests[asked:]}
    assert resumed == {("qwen2.5-7b", 0.0, 7)} and run.config["model"] == "qwen2.5-7b"
