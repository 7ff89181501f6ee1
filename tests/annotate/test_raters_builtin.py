"""The built-in rater on the demo: it learns from the settled labels, reports its
cross-validated accuracy before it rates, labels every item once per run (one record, a
confidence and a verbatim quote per dimension), resumes where it stopped, and refuses to
run without enough settled items."""

import pytest

from annotate.demo import seed_demo
from annotate.models import Item, RaterItem, RaterLabel, RaterRun
from annotate.raters import learning, runs
from annotate.raters.tasks import run_rater_task
from annotate.raters.texts import item_texts, quote_found


@pytest.fixture
def demo(db):
    return seed_demo(password="pw-demo-123", per_repository=6, share=0.7)


def _run(rater) -> RaterRun:
    (run,) = runs.start_rater_runs(rater=rater, user=None)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_the_builtin_rater_learns_the_demo_and_rates_every_item(demo):
    project = demo.project
    settled = Item.objects.filter(project=project, state="settled").count()
    assert settled >= 6
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf", seed=3)
    run = _run(rater)
    assert run.status == "succeeded", run.error
    items = Item.objects.filter(project=project).exclude(state="excluded")
    assert run.items_done == run.items_total == items.count()
    assert RaterItem.objects.filter(run=run).count() == items.count()
    # Cross-validated accuracy per dimension and level, on the settled records.
    assert set(run.training) == {"symptom", "root_cause", "stage"}
    assert set(run.training["symptom"]) == {"1", "2", "3"}
    for levels in run.training.values():
        for row in levels.values():
            assert 0.0 <= row["accuracy"] <= 1.0 and row["folds"] == learning.FOLDS
            assert row["n"] >= settled
    # One record per item, one label per dimension, confidence in [0, 1].
    labels = RaterLabel.objects.filter(run=run)
    assert labels.count() == 3 * items.count() == run.labels_written
    assert set(labels.values_list("record", flat=True)) == {0}
    assert all(0.0 <= c <= 1.0 for c in labels.values_list("confidence", flat=True))
    # The demo's issues say what failed: the rater agrees with most settled labels.
    assert run.training["stage"]["1"]["accuracy"] >= 0.6
    # Every non-empty quote is verbatim text of the item.
    texts = {t.item_id: t.plain() for t in item_texts(items)}
    quoted = [(label.item_id, label.evidence) for label in labels if label.evidence]
    assert quoted and all(quote_found(q, texts[i]) for i, q in quoted)
    assert run.quotes_not_found == 0
    # A redelivered message finds the run done.
    run_rater_task(run_id=run.pk)
    assert RaterLabel.objects.filter(run=run).count() == labels.count()


def test_a_stopped_builtin_run_resumes_without_writing_twice(demo, monkeypatch):
    project = demo.project
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    monkeypatch.setattr("annotate.raters.builtin.CHUNK", 10)
    run = _run(rater)
    first = dict(
        RaterLabel.objects.filter(run=run).values_list("item_id", "category_id")
        .filter(dimension__key="symptom")
    )  # fmt: skip
    half = list(RaterItem.objects.filter(run=run).values_list("item_id", flat=True))[::2]
    RaterItem.objects.filter(run=run, item_id__in=half).delete()
    RaterLabel.objects.filter(run=run, item_id__in=half).delete()
    RaterRun.objects.filter(pk=run.pk).update(
        status="failed", items_done=run.items_done - len(half)
    )
    runs.resume_rater_run(run=run)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.items_done == run.items_total
    again = dict(
        RaterLabel.objects.filter(run=run, dimension__key="symptom")
        .values_list("item_id", "category_id")
    )  # fmt: skip
    assert again == first  # the same seed learns the same model


def test_too_few_settled_items_fail_the_run_with_a_reason(project, items):
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    run = _run(rater)
    assert run.status == "failed"
    assert run.error == (
        "The built-in rater needs at least 6 settled items to learn from; this project has 0."
    )
    assert not RaterLabel.objects.filter(run=run).exists()
    runs.resume_rater_run(run=run)  # may be resumed once labels exist
    assert RaterRun.objects.get(pk=run.pk).status == "queued"


def test_learning_walks_down_the_tree_and_keeps_unlabeled_items_out_of_training():
    texts = [f"cuda out of memory gpu {n}" for n in range(8)]
    texts += [f"hang stuck forever generation {n}" for n in range(8)]
    texts += ["cuda out of memory again", "generation stuck again"]
    oom, hang = "Crash > CUDA Error > Out of Memory", "Hang > Generation Process Stuck"
    records = [(n, {"symptom": oom}) for n in range(8)]
    records += [(8 + n, {"symptom": hang}) for n in range(8)]
    learned = learning.learn(texts, records, {"symptom": 3}, seed=0)
    prediction = learned.predictions["symptom"]
    assert prediction.paths[16] == oom and prediction.paths[17] == hang
    assert learned.accuracy["symptom"][1] == {"accuracy": 1.0, "n": 16, "folds": 2}
    assert 0.5 < prediction.confidence[16] <= 1.0
    assert prediction.evidence_terms[16] in {"cuda", "memory"}
    assert learning.quote_around("Error: CUDA Out of memory.", "cuda") == (
        "Error: CUDA Out of memory."
    )


def test_a_resumed_run_rates_with_the_model_it_started_with(demo, monkeypatch):
    """Stopped midway, then labels are settled (new items, one label changed), then
    resumed: the items rated after the resume get the predictions an uninterrupted run
    from the same start gave, and the run says what it was trained on."""
    from tests.builders import HANG, LabelBuilder

    project = demo.project
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf", seed=5)
    monkeypatch.setattr("annotate.raters.builtin.CHUNK", 10)
    run = _run(rater)
    trained_on = run.config["trained_on"]
    settled = Item.objects.filter(project=project, state="settled")
    assert trained_on["settled_items"] == settled.count() and trained_on["records"] >= 6
    uninterrupted = _symptoms(run)
    undone = _stop_midway(run)
    # New labels settled meanwhile: every unsettled item, all alike, and a settled item's
    # final label replaced (the set the run learned from moved a lot).
    build = LabelBuilder(project)
    for item in Item.objects.filter(project=project).exclude(state__in=["settled", "excluded"]):
        build.settle(item, [{"symptom": HANG, "stage": "Inference"}])
    assert (
        Item.objects.filter(project=project, state="settled").count() > trained_on["settled_items"]
    )
    runs.resume_rater_run(run=run)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.items_done == run.items_total
    assert run.config["trained_on"] == trained_on
    resumed = {i: label for i, label in _symptoms(run).items() if i in undone}
    assert resumed and resumed == {i: uninterrupted[i] for i in undone if i in uninterrupted}


def test_a_resumed_run_keeps_the_seed_it_started_with(demo, monkeypatch):
    """The rater's seed changed between the stop and the resume: the run's remaining items
    are rated with the seed it stored (its config), as an uninterrupted run rated them."""
    rater = runs.add_rater(project=demo.project, user=None, kind="builtin", name="sgd", seed=5)
    monkeypatch.setattr("annotate.raters.builtin.CHUNK", 10)
    run = _run(rater)
    uninterrupted = _symptoms(run)
    undone = _stop_midway(run)
    runs.change_rater(rater=rater, user=None, seed=12345)
    runs.resume_rater_run(run=run)
    run_rater_task(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.config["seed"] == 5
    resumed = {i: label for i, label in _symptoms(run).items() if i in undone}
    assert resumed and resumed == {i: uninterrupted[i] for i in undone if i in uninterrupted}


def _stop_midway(run) -> list[int]:
    """As if the run's worker died midway: the second half of its items is undone and the
    run failed. The undone items' ids."""
    done = list(RaterItem.objects.filter(run=run).order_by("item__position", "item_id"))
    undone = [r.item_id for r in done[len(done) // 2 :]]
    RaterItem.objects.filter(run=run, item_id__in=undone).delete()
    RaterLabel.objects.filter(run=run, item_id__in=undone).delete()
    RaterRun.objects.filter(pk=run.pk).update(status="failed", items_done=len(done) - len(undone))
    return undone


def _symptoms(run) -> dict:
    """{item: (category, confidence)} of the run's symptom labels."""
    rows = RaterLabel.objects.filter(run=run, dimension__key="symptom")
    return {i: (c, p) for i, c, p in rows.values_list("item_id", "category_id", "confidence")}
