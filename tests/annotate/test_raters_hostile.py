"""The LLM rater against a hostile endpoint: answers a model (or whatever answers at the
base URL) should never be able to use to stop a run for good, crash the worker, or write
a label that is not one. Each hostile answer must end as an invalid answer or a failed
item, and the run must go on to the next item."""

import json

import pytest

from annotate.models import RaterItem, RaterLabel
from annotate.raters import runs
from annotate.raters.tasks import run_rater_task
from tests.builders import record
from tests.factories import IssueFactory, ItemFactory
from tests.openai_endpoint import Endpoint


class Hostile(Endpoint):
    """Endpoint's scripts, plus hostile ones chosen by the same [[marker]]."""

    def respond(self, body, headers):
        status, payload, extra = super().respond(body, headers)
        user = body["messages"][-1]["content"]
        valid = {"category": "Crash > CUDA Error > Out of Memory", "evidence": "CUDA"}

        def answer(**symptom):
            rec = {key: {"category": path, "confidence": 0.9, "evidence": "CUDA"}
                   for key, path in self.answer.items()}  # fmt: skip
            rec["symptom"] = {**valid, "confidence": 0.9, **symptom}
            return self._completion(json.dumps({"out_of_scope": False, "records": [rec]}))

        if "[[huge-int]]" in user:
            content = '{"out_of_scope": false, "records": [{"symptom": {"confidence": '
            return 200, self._completion(content + "1" * 5000 + "}}]}"), {}
        if "[[nested-body]]" in user:
            return 200, b"[" * 200_000 + b"]" * 200_000, {}
        if "[[nul-evidence]]" in user:
            return 200, answer(evidence="CUDA\x00out of memory"), {}
        if "[[huge-usage]]" in user:
            payload = answer()
            payload["usage"] = {"prompt_tokens": 10**12, "completion_tokens": 10**19}
            return 200, payload, {}
        if "[[nan]]" in user:
            content = json.dumps({"out_of_scope": False, "records": [{}]})
            return 200, self._completion(content.replace("{}", '{"symptom": {"category": '
                f'"{valid["category"]}", "confidence": NaN}}}}')), {}  # fmt: skip
        if "[[redirect-file]]" in user:
            return 307, {}, {"Location": "file:///etc/passwd"}
        if "[[redirect-loop]]" in user:
            return 307, {}, {"Location": "/v1/chat/completions"}
        if "[[huge-body]]" in user:
            return 200, self._completion("x" * (40 * 2**20)), {}
        if "[[above-one]]" in user:
            return 200, answer(confidence=1.5), {}
        if "[[other-dimension]]" in user:
            return 200, answer(category="Inference"), {}
        return status, payload, extra


@pytest.fixture(autouse=True)
def fast_client(settings):
    settings.RATER_HTTP_TIMEOUT_SECONDS = 2.0
    settings.RATER_HTTP_ATTEMPTS = 2
    settings.RATER_BACKOFF_SECONDS = 0.01
    settings.RATER_ANSWER_ATTEMPTS = 2


@pytest.fixture
def endpoint():
    with Hostile(answer=record()) as server:
        yield server


def _item(project, script: str, position: int):
    title = f"CUDA out of memory on A100 [[{script}]]"
    return ItemFactory(project=project, issue=IssueFactory(title=title), position=position)


def _run(project, endpoint):
    rater = runs.add_rater(
        project=project, user=None, kind="openai", name="hostile", model="m",
        base_url=endpoint.url, api_key="sk-hostile-secret",
    )  # fmt: skip
    (run,) = runs.start_rater_runs(rater=rater, user=None)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize("script", ["huge-int", "nested-body"])
def test_an_unparseable_answer_fails_the_item_not_the_run(project, endpoint, script):
    hostile, after = _item(project, script, 0), _item(project, "valid", 1)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    assert RaterItem.objects.get(run=run, item=hostile).outcome == "failed"
    assert not RaterLabel.objects.filter(run=run, item=hostile).exists()
    assert RaterItem.objects.get(run=run, item=after).outcome == "labeled"


def test_a_nul_character_in_the_evidence_does_not_stop_the_run(project, endpoint):
    hostile, after = _item(project, "nul-evidence", 0), _item(project, "valid", 1)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    assert RaterItem.objects.get(run=run, item=hostile).outcome in ("labeled", "failed")
    assert "\x00" not in "".join(RaterLabel.objects.values_list("evidence", flat=True))
    assert RaterItem.objects.get(run=run, item=after).outcome == "labeled"


def test_absurd_token_counts_do_not_stop_the_run(project, endpoint):
    hostile, after = _item(project, "huge-usage", 0), _item(project, "valid", 1)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    assert RaterItem.objects.get(run=run, item=hostile).outcome == "labeled"
    assert RaterItem.objects.get(run=run, item=after).outcome == "labeled"


@pytest.mark.parametrize("script", ["nan", "above-one", "other-dimension"])
def test_out_of_range_confidences_and_foreign_categories_are_invalid(project, endpoint, script):
    hostile = _item(project, script, 0)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    outcome = RaterItem.objects.get(run=run, item=hostile)
    assert outcome.outcome == "failed" and "invalid answer" in outcome.error
    assert run.invalid_answers == 2 and not RaterLabel.objects.filter(run=run).exists()


@pytest.mark.parametrize("script", ["redirect-file", "redirect-loop"])
def test_a_redirect_the_client_cannot_follow_fails_the_item_not_the_run(project, endpoint, script):
    hostile, after = _item(project, script, 0), _item(project, "valid", 1)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    outcome = RaterItem.objects.get(run=run, item=hostile)
    assert outcome.outcome == "failed" and "sk-hostile" not in outcome.error
    assert RaterItem.objects.get(run=run, item=after).outcome == "labeled"


def test_a_malformed_base_url_fails_the_items_not_the_run(project):
    item = _item(project, "valid", 0)
    rater = runs.add_rater(
        project=project, user=None, kind="openai", name="bad port", model="m",
        base_url="http://127.0.0.1:99999/v1",
    )  # fmt: skip
    (run,) = runs.start_rater_runs(rater=rater, user=None)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert RaterItem.objects.get(run=run, item=item).outcome == "failed"


def test_a_huge_reply_is_not_read_whole(project, endpoint, settings):
    settings.RATER_MAX_REPLY_BYTES = 2**20
    hostile, after = _item(project, "huge-body", 0), _item(project, "valid", 1)
    run = _run(project, endpoint)
    assert run.status == "succeeded", run.error
    outcome = RaterItem.objects.get(run=run, item=hostile)
    assert outcome.outcome == "failed" and "too large" in outcome.error
    assert RaterItem.objects.get(run=run, item=after).outcome == "labeled"
