"""Calibration of new coders (issue #17): the gold set, blind tries, pass/fail/tries, the
lead's word, and calibration answers kept out of the study's figures and exports."""

from html import escape

import pytest
from django.test import Client
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from analysis import calibration as service
from analysis.models import AgreementUnit
from annotate.labeling.errors import InCalibrationError
from annotate.labeling.queue import next_item
from annotate.models import Annotation, Conflict, Membership
from dataset.exporting import stream_export
from tests.builders import ASSERTION, CPU_MEMORY, DEVICE, GPU_MEMORY, HANG, OOM, paths, record
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

GOLD = [record(OOM, GPU_MEMORY, "Inference"), record(HANG, CPU_MEMORY, "Inference"),
        record(ASSERTION, GPU_MEMORY, "Inference")]  # fmt: skip
WRONG = [record(DEVICE, CPU_MEMORY, "Inference"), record(OOM, GPU_MEMORY, "Inference"),
         record(HANG, CPU_MEMORY, "Inference")]  # fmt: skip


def wire(rec):
    """A record as the service takes it: a list of label objects."""
    return [[{"dimension": key, "category": path} for key, path in rec.items()]]


def one(rec):
    """A record as the API takes it: the one record shape (annotate.records)."""
    return [{"labels": [{"dimension": key, "category": path} for key, path in rec.items()]}]


@pytest.fixture
def gold_set(project, cast):
    items = ItemFactory.create_batch(3, project=project)
    golds = [
        service.set_gold_item(project=project, item=item, records=wire(rec),
                              rationale=f"why {n}", actor=cast["lead"])
        for n, (item, rec) in enumerate(zip(items, GOLD, strict=True))
    ]  # fmt: skip
    ItemFactory.create_batch(2, project=project)  # the main queue
    return golds


def coder(project, cast, name="annotator_a"):
    member = Membership.objects.get(project=project, user=cast[name])
    return service.put_in_calibration(project=project, membership=member, actor=cast["lead"])


def run_try(project, member, answers):
    attempt = None
    for rec in answers:
        _, gold = service.next_gold(project, member)
        attempt = service.answer_gold(project=project, membership=member, gold_id=gold.pk,
                                      records=wire(rec))  # fmt: skip
    member.refresh_from_db()
    return attempt


def test_new_coder_fails_once_then_passes_and_reaches_the_main_queue(project, cast, gold_set):
    member = coder(project, cast)
    with pytest.raises(InCalibrationError):
        next_item(project=project, user=cast["annotator_a"])
    first = run_try(project, member, WRONG)
    assert first.number == 1 and first.passed is False
    assert member.calibration == Membership.Calibration.PENDING
    with pytest.raises(InCalibrationError):
        next_item(project=project, user=cast["annotator_a"])
    second = run_try(project, member, GOLD)
    assert second.number == 2 and second.passed is True and second.kappa == pytest.approx(1.0)
    assert member.calibration == Membership.Calibration.PASSED
    item = next_item(project=project, user=cast["annotator_a"])
    assert item is not None and not hasattr(item, "gold")


def test_coder_who_runs_out_of_tries_waits_for_the_lead(project, cast, gold_set):
    service.set_settings(project=project, threshold=0.8, tries=1)
    member = coder(project, cast)
    run_try(project, member, WRONG)
    assert member.calibration == Membership.Calibration.FAILED
    assert service.next_gold(project, member) == (None, None)
    with pytest.raises(InCalibrationError):
        next_item(project=project, user=cast["annotator_a"])
    service.decide(project=project, membership=member, passed=True, actor=cast["lead"])
    assert next_item(project=project, user=cast["annotator_a"]) is not None


def test_members_never_sent_through_calibration_keep_the_queue(project, cast, gold_set):
    assert next_item(project=project, user=cast["annotator_b"]) is not None


def test_kappa_against_gold_matches_statsmodels(project, cast, gold_set):
    member = coder(project, cast)
    attempt = run_try(project, member, WRONG)
    # Independent: the pooled (dimension-keyed) table, built by hand, through statsmodels.
    pairs = [(k, f"{k}:{w[k]}", f"{k}:{g[k]}") for w, g in zip(WRONG, GOLD, strict=True)
             for k in g]  # fmt: skip
    names = sorted({c for _, a, b in pairs for c in (a, b)})
    table = [[sum(1 for _, a, b in pairs if a == r and b == c) for c in names] for r in names]
    assert attempt.kappa == pytest.approx(sm_kappa(table).kappa)
    stage = attempt.scores["dimensions"]["stage"]
    assert stage["agreement"] == 1.0 and stage["kappa"] is None  # one category only
    assert attempt.scores["dimensions"]["symptom"]["agreement"] == 0.0


def test_gold_labels_stay_hidden_until_the_try_is_finished(project, cast, gold_set, api_for):
    member = coder(project, cast)
    client = api_for(cast["annotator_a"])
    url = f"/api/projects/{project.slug}/calibration/mine/"
    before = client.get(url)
    assert before.status_code == 200 and before.json()["next"] is not None
    text = before.content.decode()
    assert "why 0" not in text and OOM not in text and GPU_MEMORY not in text
    _, gold = service.next_gold(project, member)
    client.post(url, {"gold": gold.pk, "records": one(WRONG[0])}, format="json")
    partial = client.get(url).content.decode()
    assert "why 0" not in partial and GPU_MEMORY not in partial
    attempt = service.current_try(project, member)
    with pytest.raises(service.CalibrationError):
        service.feedback(project, attempt)
    assert client.get(f"/projects/{project.slug}/calibration/tries/1/").status_code == 302
    for rec in WRONG[1:]:
        _, gold = service.next_gold(project, member)
        client.post(url, {"gold": gold.pk, "records": one(rec)}, format="json")
    after = client.get(url).json()
    assert after["tries"][0]["passed"] is False
    assert {i["rationale"] for i in after["tries"][0]["items"]} == {"why 0", "why 1", "why 2"}
    # The feedback page, too, shows the gold labels and the rationale now.
    web = Client()
    web.force_login(cast["annotator_a"])
    feedback = web.get(f"/projects/{project.slug}/calibration/tries/1/").content.decode()
    assert "why 1" in feedback and escape(GOLD[0]["symptom"]) in feedback


def test_another_coder_cannot_read_a_coders_tries(project, cast, gold_set, client_for):
    member = coder(project, cast)
    run_try(project, member, WRONG)
    other = client_for(cast["annotator_b"])
    assert other.get(f"/projects/{project.slug}/calibration/tries/1/").status_code == 404


def test_calibration_answers_stay_out_of_agreement_conflicts_and_exports(project, cast, gold_set):
    units, annotations = AgreementUnit.objects.count(), Annotation.objects.count()
    export_before = "".join(stream_export(project, "jsonl", labels="all"))
    member = coder(project, cast)
    run_try(project, member, WRONG)
    run_try(project, member, GOLD)
    assert AgreementUnit.objects.count() == units
    assert Annotation.objects.count() == annotations
    assert not Conflict.objects.filter(project=project).exists()
    assert "".join(stream_export(project, "jsonl", labels="all")) == export_before


@pytest.mark.parametrize("threshold,tries", [("x", 2), (1.5, 2), (0.5, 0), (0.5, "many")])
def test_bad_settings_are_refused_and_change_nothing(project, threshold, tries):
    with pytest.raises(service.CalibrationError):
        service.set_settings(project=project, threshold=threshold, tries=tries)
    project.refresh_from_db()
    assert (project.calibration_threshold, project.calibration_tries) == (0.6, 2)


def test_gold_item_needs_a_rationale_and_known_categories(project, cast, gold_set):
    item = ItemFactory(project=project)
    with pytest.raises(service.CalibrationError, match="rationale"):
        service.set_gold_item(project=project, item=item, records=wire(GOLD[0]), rationale=" ",
                              actor=cast["lead"])  # fmt: skip
    bad = [[{"dimension": "symptom", "category": "No > Such"}]]
    with pytest.raises(service.CalibrationError, match="unknown category"):
        service.set_gold_item(project=project, item=item, records=bad, rationale="r",
                              actor=cast["lead"])  # fmt: skip
    assert not hasattr(item, "gold") or item.gold is None


def test_coder_cannot_answer_twice_or_without_calibration(project, cast, gold_set):
    member = Membership.objects.get(project=project, user=cast["annotator_b"])
    with pytest.raises(service.CalibrationError, match="no calibration try"):
        service.answer_gold(project=project, membership=member, gold_id=gold_set[0].pk,
                            records=wire(GOLD[0]))  # fmt: skip
    member = coder(project, cast)
    service.answer_gold(project=project, membership=member, gold_id=gold_set[0].pk,
                        records=wire(GOLD[0]))  # fmt: skip
    with pytest.raises(service.CalibrationError, match="already answered"):
        service.answer_gold(project=project, membership=member, gold_id=gold_set[0].pk,
                            records=wire(GOLD[0]))  # fmt: skip


def test_methods_summary_counts_coders_tries_and_kappas(project, cast, gold_set):
    member = coder(project, cast)
    run_try(project, member, WRONG)
    run_try(project, member, GOLD)
    summary = service.summary(project)
    assert summary["coders"] == 1 and summary["passed"] == 1 and summary["tries"] == 2
    assert summary["passing_kappas"] == [pytest.approx(1.0)]


def test_methods_section_reports_the_calibration(project, cast, gold_set):
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown

    assert "new coder" not in methods_markdown(methods_facts(project))
    member = coder(project, cast)
    run_try(project, member, WRONG)
    run_try(project, member, GOLD)
    text = methods_markdown(methods_facts(project))
    assert "1 new coder first labeled a gold set of 3 items" in text
    assert "1 passed, 0 failed out, in 2 tries in all" in text


@pytest.mark.parametrize(
    "records", ["abc", None, 7, [["x"]], [{"dimension": "symptom"}], [[1, 2]], {"a": 1}]
)
def test_hostile_records_are_a_400_naming_the_problem(project, cast, gold_set, api_for, records):
    coder(project, cast)
    url = f"/api/projects/{project.slug}/calibration/mine/"
    reply = api_for(cast["annotator_a"]).post(
        url, {"gold": gold_set[0].pk, "records": records}, format="json"
    )
    assert reply.status_code == 400 and "record" in reply.json()["detail"].lower()
    lead = api_for(cast["lead"]).post(
        f"/api/projects/{project.slug}/calibration/gold/",
        {"item": gold_set[0].item_id, "records": records, "rationale": "r"},
        format="json",
    )
    assert lead.status_code == 400
    assert gold_set[0].labels.count() == 3  # nothing partial written


@pytest.mark.parametrize("gold", ["x", -1, 10**30, None, [1]])
def test_hostile_gold_ids_are_a_400(project, cast, gold_set, api_for, gold):
    coder(project, cast)
    reply = api_for(cast["annotator_a"]).post(
        f"/api/projects/{project.slug}/calibration/mine/",
        {"gold": gold, "records": one(GOLD[0])},
        format="json",
    )
    assert reply.status_code == 400


def test_lead_reads_the_gold_set_in_the_decision_shape(project, cast, gold_set, api_for):
    reply = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/calibration/gold/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["threshold"] == 0.6 and body["tries"] == 2
    assert [paths(i["records"]) for i in body["items"]] == [[rec] for rec in GOLD]
    assert [i["rationale"] for i in body["items"]] == ["why 0", "why 1", "why 2"]
