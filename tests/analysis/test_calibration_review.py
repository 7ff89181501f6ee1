"""Calibration of new coders (issue #17), a fresh-context review: coders stuck between the
calibration page and the queue, gold labels shown before a try, the queue's gate, record
pairing, the methods section, and hostile input."""

import pytest

from analysis import calibration as service
from annotate.labeling.queue import next_item
from annotate.models import Annotation, Membership
from tests.analysis import test_calibration as base
from tests.analysis.test_calibration import GOLD, WRONG, coder, one, run_try, wire
from tests.builders import CALL_ORDER, CPU_MEMORY, GPU_MEMORY, HANG, OOM, record
from tests.factories import ItemFactory

gold_set = base.gold_set  # the three-item gold set, a fixture

pytestmark = pytest.mark.django_db

NEW = record(HANG, CALL_ORDER, "Inference")  # no gold item of the set has it

CALIBRATION = "/projects/{}/calibration/"
QUEUE = "/projects/{}/label/"


def test_a_gold_item_removed_mid_try_scores_the_try_when_the_rest_is_answered(
    project, cast, gold_set, client_for
):
    """Before: the coder had answered every gold item left, but the try stayed open with
    nothing to answer; the calibration page sent them to the queue, which sent them back."""
    member = coder(project, cast)
    run_try(project, member, WRONG[:2])
    service.remove_gold_item(project=project, item=gold_set[2].item, actor=cast["lead"])
    member.refresh_from_db()
    attempt = member.calibration_tries.get(number=1)
    assert attempt.finished_at is not None and attempt.passed is False
    page = client_for(cast["annotator_a"]).get(CALIBRATION.format(project.slug))
    assert b"Try 2 of 2" in page.content


def test_the_last_gold_item_cannot_go_while_coders_are_in_calibration(
    project, cast, gold_set, api_for
):
    coder(project, cast)
    lead = api_for(cast["lead"])
    for gold in gold_set[:2]:
        url = f"/api/projects/{project.slug}/calibration/gold/{gold.item_id}/"
        assert lead.delete(url).status_code == 204
    reply = lead.delete(f"/api/projects/{project.slug}/calibration/gold/{gold_set[2].item_id}/")
    assert reply.status_code == 400 and "in calibration" in reply.json()["detail"]
    assert project.gold_items.count() == 1


def test_lowering_the_tries_below_a_coders_used_tries_fails_them_out(
    project, cast, gold_set, client_for
):
    """Before: the coder stayed 'in calibration' with no try left to open, and the page
    told them they had no calibration to do while the queue sent them back to it."""
    service.set_settings(project=project, threshold=0.6, tries=3)
    member = coder(project, cast)
    run_try(project, member, WRONG)
    run_try(project, member, WRONG)
    service.set_settings(project=project, threshold=0.6, tries=2, actor=cast["lead"])
    member.refresh_from_db()
    assert member.calibration == Membership.Calibration.FAILED
    page = client_for(cast["annotator_a"]).get(CALIBRATION.format(project.slug))
    assert b"did not pass calibration" in page.content


def test_a_gold_item_added_after_a_try_stays_hidden_until_the_coder_answers_it(
    project, cast, gold_set, client_for, api_for
):
    """Before: a finished try's feedback listed every gold item of the set as it is now, so
    a gold item the lead added afterwards showed its labels and rationale to the coder
    before their next try asked them to label it."""
    member = coder(project, cast)
    run_try(project, member, WRONG)
    extra = ItemFactory(project=project)
    service.set_gold_item(project=project, item=extra, records=wire(NEW), rationale="Late gold",
                          actor=cast["lead"])  # fmt: skip
    page = client_for(cast["annotator_a"]).get(f"/projects/{project.slug}/calibration/tries/1/")
    api = api_for(cast["annotator_a"]).get(f"/api/projects/{project.slug}/calibration/mine/")
    for text in (page.content.decode(), api.content.decode()):
        assert "why 0" in text  # the try's own gold items are there
        assert "Late gold" not in text and "Call Sequence Error" not in text
    assert [i["item"] for i in api.json()["tries"][0]["items"]] == [g.item_id for g in gold_set]


@pytest.mark.parametrize("state", ["calibrate", "refuse"])
def test_a_coder_not_cleared_cannot_submit_a_main_queue_item_they_held(
    project, cast, gold_set, api_for, client_for, state
):
    """Before: the gate was in `next` only, so an item the coder held when the lead sent
    them through calibration (or kept them out) still took their labels, by the API and by
    the labeling page."""
    coder_user = cast["annotator_a"]
    item = next_item(project=project, user=coder_user)
    member = coder(project, cast)
    if state == "refuse":
        service.decide(project=project, membership=member, passed=False, actor=cast["lead"])
    url = f"/api/projects/{project.slug}/items/{item.pk}/annotations/"
    reply = api_for(coder_user).post(url, {"records": one(GOLD[0])}, format="json")
    assert reply.status_code == 409 and "calibration" in reply.json()["detail"]
    page = client_for(coder_user).post(
        f"/projects/{project.slug}/label/{item.pk}/",
        {f"r0-{key}": path for key, path in GOLD[0].items()},
    )
    assert page.status_code == 302 and page["Location"] == CALIBRATION.format(project.slug)
    assert not Annotation.objects.filter(item=item).exists()
    # Once the lead admits them, the item they hold takes their labels again.
    service.decide(project=project, membership=member, passed=True, actor=cast["lead"])
    reply = api_for(coder_user).post(url, {"records": one(GOLD[0])}, format="json")
    assert reply.status_code == 200


def test_the_same_failure_records_in_another_order_agree_with_the_gold(project, cast, api_for):
    """Before: records were paired by their position, so a coder who gave the gold item's
    two failure records in the other order disagreed on every dimension of both (kappa
    0.44 here instead of 1). The study's agreement pairs records by content (adjudication's
    align_records); calibration now does the same."""
    first, second = ItemFactory.create_batch(2, project=project)
    two = [record(OOM, GPU_MEMORY, "Inference"), record(HANG, CPU_MEMORY, "Inference")]
    labels = [[{"dimension": k, "category": p} for k, p in r.items()] for r in two]
    for item, records in ((first, labels), (second, wire(GOLD[2]))):
        service.set_gold_item(project=project, item=item, records=records, rationale="r",
                              actor=cast["lead"])  # fmt: skip
    member = coder(project, cast)
    for records in (labels[::-1], wire(GOLD[2])):
        _, gold = service.next_gold(project, member)
        attempt = service.answer_gold(project=project, membership=member, gold_id=gold.pk,
                                      records=records)  # fmt: skip
    assert attempt.kappa == pytest.approx(1.0) and attempt.passed is True
    assert attempt.scores["agreement"] == 1.0
    mine = api_for(cast["annotator_a"]).get(f"/api/projects/{project.slug}/calibration/mine/")
    lines = [line for i in mine.json()["tries"][0]["items"] for line in i["lines"]]
    assert len(lines) == 9 and all(line["mine"] == line["gold"] for line in lines)


def test_the_methods_section_tells_passing_from_the_leads_admission(project, cast, gold_set):
    """Before: a coder who failed every try and whom the lead admitted all the same was
    reported as having passed, and a coder still in calibration as having entered the
    main queue at the threshold."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown

    service.set_settings(project=project, threshold=0.8, tries=1)
    member = coder(project, cast)
    run_try(project, member, WRONG)
    service.decide(project=project, membership=member, passed=True, actor=cast["lead"])
    coder(project, cast, "annotator_b")
    summary = service.summary(project)
    assert (summary["passed"], summary["admitted"], summary["pending"]) == (0, 1, 1)
    text = methods_markdown(methods_facts(project))
    assert "to enter the main queue at Cohen's κ ≥ 0.80" in text
    assert (
        "0 passed, 0 failed out, 1 admitted by the lead without passing, "
        "1 still in calibration, in 1 try in all." in text
    )


def test_a_kappa_exactly_at_the_threshold_passes():
    """Before: 3 + 8 agreeing units and one disagreement give kappa 4/5 exactly, which
    floating point computes as 0.7999999999999999: the coder read "κ 0.80, pass at 0.80,
    not passed". Checked by hand with fractions."""
    from fractions import Fraction

    pairs = [("symptom", "Hang", "Hang")] * 3 + [("symptom", "Crash", "Hang")]
    pairs += [("symptom", "Crash", "Crash")] * 8
    po, pe = Fraction(11, 12), Fraction(4 * 3 + 8 * 9, 144)
    assert (po - pe) / (1 - pe) == Fraction(4, 5)
    score = service.score_pairs(pairs)
    assert service.passes(score, 0.8) is True
    assert service.passes(score, 0.81) is False


@pytest.mark.parametrize("who,action,status", [("annotator_b", "refuse", 400),
                                               ("lead", "refuse", 400),
                                               ("annotator_b", "admit", 200)])  # fmt: skip
def test_the_lead_decides_only_on_coders_in_calibration(project, cast, gold_set, api_for, who,
                                                        action, status):  # fmt: skip
    """Before: 'refuse' on any member, even another lead or an annotator never sent through
    calibration, locked them out of the queue; 'admit' marked a coder who never labeled
    the gold set as cleared, counted in the methods section's calibration figures. Now
    'refuse' is a 400 for them and 'admit' changes nothing (they reach the queue already)."""
    target = Membership.objects.get(project=project, user=cast[who])
    url = f"/api/projects/{project.slug}/calibration/members/{target.pk}/"
    reply = api_for(cast["owner"]).post(url, {"action": action}, format="json")
    assert reply.status_code == status
    if status == 400:
        assert "calibration" in reply.json()["detail"]
    target.refresh_from_db()
    assert target.calibration == ""
    assert service.summary(project)["coders"] == 0
    assert next_item(project=project, user=cast[who]) is not None


@pytest.mark.parametrize("rationale", [{"a": [1]}, ["why"], 7, True])
def test_a_rationale_that_is_not_text_is_a_400(project, cast, gold_set, api_for, rationale):
    """Before: the API stored the rationale's Python repr ("{'a': [1]}") as the text."""
    reply = api_for(cast["lead"]).post(
        f"/api/projects/{project.slug}/calibration/gold/",
        {"item": gold_set[0].item_id, "records": one(WRONG[0]), "rationale": rationale},
        format="json",
    )
    assert reply.status_code == 400 and "rationale" in reply.json()["detail"]
    gold_set[0].refresh_from_db()
    assert gold_set[0].rationale == "why 0"


def test_the_feedback_shows_the_gold_labels_the_try_was_scored_against(
    project, cast, gold_set, api_for
):
    """Before: the feedback read the gold labels and rationale as they are now, so once the
    lead changed a gold item the coder's answers were shown against labels their kappa
    was never computed with (here: every line agreeing beside a failed kappa)."""
    member = coder(project, cast)
    attempt = run_try(project, member, WRONG)
    for gold, answer in zip(gold_set, WRONG, strict=True):
        service.set_gold_item(project=project, item=gold.item, records=wire(answer),
                              rationale="changed", actor=cast["lead"])  # fmt: skip
    mine = api_for(cast["annotator_a"]).get(f"/api/projects/{project.slug}/calibration/mine/")
    done = mine.json()["tries"][0]
    assert done["kappa"] == pytest.approx(attempt.kappa) and done["passed"] is False
    assert [i["rationale"] for i in done["items"]] == ["why 0", "why 1", "why 2"]
    lines = [line for i in done["items"] for line in i["lines"]]
    assert sum(line["mine"] == line["gold"] for line in lines) / len(lines) == pytest.approx(
        done["scores"]["agreement"]
    )
    assert set(done["scores"]) == {"agreement", "dimensions"}


def test_a_coder_out_of_tries_is_told_so_and_what_to_do_by_the_api(
    project, cast, gold_set, api_for
):
    """Before: the queue's 409 said only "the lead decides what next": not that the tries
    were used up, nor what the coder can do."""
    service.set_settings(project=project, threshold=0.8, tries=1)
    run_try(project, coder(project, cast), WRONG)
    api = api_for(cast["annotator_a"])
    reply = api.post(f"/api/projects/{project.slug}/queue/next/")
    assert reply.status_code == 409
    detail = reply.json()["detail"]
    assert "every calibration try" in detail and "ask the project's lead" in detail
    coder(project, cast, "annotator_b")
    reply = api_for(cast["annotator_b"]).post(f"/api/projects/{project.slug}/queue/next/")
    assert reply.status_code == 409 and "calibration/mine/" in reply.json()["detail"]


def test_per_dimension_scores_match_scikit_learn(project, cast, gold_set):
    """Recomputed independently: each dimension's kappa and agreement of a failed try
    against scikit-learn's cohen_kappa_score and a plain count (they held)."""
    from sklearn.metrics import cohen_kappa_score

    from tests.analysis.test_calibration import GOLD

    mixed = [WRONG[0], GOLD[1], GOLD[2]]  # each side uses two categories or more
    attempt = run_try(project, coder(project, cast), mixed)
    for key in ("symptom", "root_cause"):
        mine, gold = [r[key] for r in mixed], [r[key] for r in GOLD]
        score = attempt.scores["dimensions"][key]
        assert score["kappa"] == pytest.approx(cohen_kappa_score(mine, gold), abs=1e-12)
        agreeing = sum(a == b for a, b in zip(mine, gold, strict=True))
        assert score["agreement"] == pytest.approx(agreeing / 3) and score["units"] == 3


@pytest.mark.parametrize("threshold,tries", [(True, 2), (0.5, True), (0.5, 2.7), ("0.5", "2")])
def test_settings_take_numbers_only(project, cast, api_for, threshold, tries):
    """Before: JSON true went in as kappa 1.0 or one try, and 2.7 tries as 2 (the numbers
    in strings, from the page's form, are still taken)."""
    reply = api_for(cast["lead"]).put(
        f"/api/projects/{project.slug}/calibration/settings/",
        {"threshold": threshold, "tries": tries},
        format="json",
    )
    project.refresh_from_db()
    if (threshold, tries) == ("0.5", "2"):
        assert reply.status_code == 200 and project.calibration_threshold == 0.5
        return
    assert reply.status_code == 400
    assert (project.calibration_threshold, project.calibration_tries) == (0.6, 2)


def test_a_failed_out_coder_is_told_the_tries_they_used_and_whom_to_ask(
    project, cast, gold_set, client_for
):
    """Before: the page said "within {tries setting} tries", which is wrong once the lead
    lowers the setting below the tries a coder had already used, and named nobody to ask."""
    service.set_settings(project=project, threshold=0.6, tries=3)
    member = coder(project, cast)
    run_try(project, member, WRONG)
    run_try(project, member, WRONG)
    service.set_settings(project=project, threshold=0.6, tries=1, actor=cast["lead"])
    page = client_for(cast["annotator_a"]).get(CALIBRATION.format(project.slug)).content
    assert b"did not pass calibration in your 2 tries" in page
    assert b"Ask the project&#x27;s lead" in page or b"Ask the project's lead" in page


@pytest.mark.parametrize("state", ["calibrate", "refuse"])
def test_a_held_item_is_shown_locked_with_the_reason_to_a_coder_not_cleared(
    project, cast, gold_set, client_for, state
):
    """Before: the labeling page still showed the held main-queue item with its form, so a
    coder the lead had sent through calibration (or kept out) labeled it in full and lost
    the labels on submit (a redirect to calibration). Now it shows no form, says why and
    where to go; once admitted, the form is back."""
    coder_user = cast["annotator_a"]
    item = next_item(project=project, user=coder_user)
    member = coder(project, cast)
    if state == "refuse":
        service.decide(project=project, membership=member, passed=False, actor=cast["lead"])
    client = client_for(coder_user)
    page = client.get(f"/projects/{project.slug}/label/{item.pk}/").content.decode()
    assert 'id="label-form"' not in page
    if state == "calibrate":
        assert "You are in calibration: label the gold set first" in page
        assert f'href="{CALIBRATION.format(project.slug)}"' in page
    else:
        assert "You used every calibration try without passing" in page
    service.decide(project=project, membership=member, passed=True, actor=cast["lead"])
    page = client.get(f"/projects/{project.slug}/label/{item.pk}/").content.decode()
    assert 'id="label-form"' in page and "calibration try" not in page


def test_the_methods_section_reports_the_settings_each_try_met(project, cast, gold_set):
    """Before: the methods section stated today's threshold and tries for every coder, so a
    lead who raised the bar after some coders passed reported a rule they never met."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown

    service.set_settings(project=project, threshold=0.6, tries=3, actor=cast["lead"])
    first = coder(project, cast)
    run_try(project, first, GOLD)
    text = methods_markdown(methods_facts(project))
    assert "at Cohen's κ ≥ 0.60 against the gold labels (at most 3 tries): 1 passed" in text
    service.set_settings(project=project, threshold=0.8, tries=2, actor=cast["lead"])
    text = methods_markdown(methods_facts(project))
    assert "κ ≥ 0.80" not in text  # no try has met today's rule yet
    second = coder(project, cast, "annotator_b")
    run_try(project, second, WRONG)
    run_try(project, second, GOLD)
    text = methods_markdown(methods_facts(project))
    assert (
        "at Cohen's κ ≥ 0.80 against the gold labels (at most 2 tries) for 2 tries; "
        "Cohen's κ ≥ 0.60 against the gold labels (at most 3 tries) for 1 try "
        "(the lead changed the settings during calibration): 2 passed"
    ) in text
    summary = service.summary(project)
    assert summary["settings_used"] == [
        {"threshold": 0.8, "max_tries": 2, "tries": 2},
        {"threshold": 0.6, "max_tries": 3, "tries": 1},
    ]


def test_tries_scored_before_settings_were_kept_are_not_given_todays_rule(project, cast, gold_set):
    """A try scored before its settings were stored (null threshold) met a rule nobody
    recorded: the methods section says so and gives today's rule as today's only."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown
    from annotate.models import CalibrationTry

    member = coder(project, cast)
    run_try(project, member, GOLD)
    CalibrationTry.objects.update(threshold=None, max_tries=None)
    service.set_settings(project=project, threshold=0.9, tries=4, actor=cast["lead"])
    text = methods_markdown(methods_facts(project))
    assert (
        "at a threshold not recorded for its 1 try (today's rule: Cohen's κ ≥ 0.90 against "
        "the gold labels (at most 4 tries)): 1 passed"
    ) in text


def test_a_pass_with_kappa_undefined_is_reported_not_dropped(project, cast, gold_set):
    """kappa is undefined when every answer and gold label is in one category; such a try
    passes on full agreement. The methods sentence gave the range of the defined ones only
    and said nothing of it (the distributions review)."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown
    from annotate.models import CalibrationTry

    member = coder(project, cast)
    run_try(project, member, GOLD)
    CalibrationTry.objects.update(kappa=None)
    text = methods_markdown(methods_facts(project))
    assert (
        "in 1 try in all; 1 passing try had κ undefined, every label in one category, with "
        "full agreement."
    ) in text
    other = coder(project, cast, "annotator_b")
    run_try(project, other, GOLD)
    text = methods_markdown(methods_facts(project))
    assert "ranged from 1.000 to 1.000 (1 passing try had κ undefined" in text
