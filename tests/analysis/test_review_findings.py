"""Review of the statistics (issue #13 review): each test computes the expected figure
independently (scikit-learn, statsmodels, krippendorff, scipy or a textbook formula)."""

import datetime as dt

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from analysis.agreement import build_agreement_report
from annotate.models import Annotation, Role
from annotate.projects.services import add_member

OOM = "Crash > CUDA Error > Out of Memory"
KERNEL = "Crash > CUDA Error > Kernel Error"
HANG = "Hang"


def row(report, key, lv=1):
    return next(r for r in report.rows() if r["dimension"] == key and r["level"] == lv)


def third_annotator(project):
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    return get_user_model().objects.get(username="annotator_c")


def annotate_in_order(labels, item, plan):
    """plan: [(user, records)], oldest first."""
    start = timezone.now() - dt.timedelta(days=1)
    for minute, (user, records) in enumerate(plan):
        annotation = labels.annotate(item, user, records)
        Annotation.objects.filter(pk=annotation.pk).update(
            created_at=start + dt.timedelta(minutes=minute)
        )


def coincidence_summary(units):
    """Percent agreement (pairable values agreeing) and Krippendorff's alpha of units given
    as lists of values, by the krippendorff package."""
    import krippendorff

    codes = {v: i for i, v in enumerate(sorted({v for u in units for v in u}))}
    raters = max(len(u) for u in units)
    data = [[codes[u[r]] if r < len(u) else np.nan for u in units] for r in range(raters)]
    alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    agree = sum(sum(c * (c - 1) for c in np.unique(u, return_counts=True)[1]) / (len(u) - 1)
                for u in units)  # fmt: skip
    return agree / sum(len(u) for u in units), alpha


@pytest.mark.parametrize("portable", [False, True])
def test_three_raters_pairing_does_not_depend_on_who_annotated_first(
    project, cast, labels, portable
):
    """A gives OOM; B and C both give OOM and Hang. B's and C's Hang records are the same
    record and must pair with each other whoever annotated first. Aligned to the oldest
    annotation only, they became two lone records when A was oldest (two unpaired labels
    under "missing"; two disagreements against (none) under "disagree") and one agreeing
    unit when B was."""
    a, b, c = cast["annotator_a"], cast["annotator_b"], third_annotator(project)
    records = {a: [{"symptom": OOM}], b: [{"symptom": OOM}, {"symptom": HANG}],
               c: [{"symptom": OOM}, {"symptom": HANG}]}  # fmt: skip
    for order in ([a, b, c], [b, a, c]):
        annotate_in_order(labels, labels.item(), [(u, records[u]) for u in order])
    missing = row(build_agreement_report(project=project, portable=portable), "symptom", 3)
    assert missing["unpaired"] == 0
    # Units per item: (OOM, OOM, OOM) and (Hang, Hang); the same for both items.
    expected_po, expected_alpha = coincidence_summary([["O", "O", "O"], ["H", "H"]] * 2)
    assert missing["percent_agreement"] == pytest.approx(expected_po)
    assert missing["alpha"] == pytest.approx(expected_alpha)
    disagree = row(
        build_agreement_report(project=project, portable=portable, unpaired="disagree"),
        "symptom", 3,
    )  # fmt: skip
    # With "(none)" for A on the Hang record: (O, O, O) and (none, H, H) per item.
    expected_po, expected_alpha = coincidence_summary([["O", "O", "O"], ["-", "H", "H"]] * 2)
    assert disagree["percent_agreement"] == pytest.approx(expected_po)  # 4/6, not 0.6
    assert disagree["alpha"] == pytest.approx(expected_alpha)


@pytest.mark.parametrize("portable", [False, True])
def test_scope_and_record_rows_count_every_item_when_dimensions_are_optional(
    project, cast, labels, portable
):
    """With no required dimension, one item may carry only a symptom and another only a
    stage. The PostgreSQL path counted a pair's simple items as the most units of any one
    dimension (here 2 of the 4 agreeing items), so the scope row's n and kappa differed from
    the portable path and from scikit-learn."""
    from sklearn.metrics import cohen_kappa_score

    project.dimensions.update(required=False)
    a, b = cast["annotator_a"], cast["annotator_b"]
    plan = [
        ({"symptom": OOM}, {"symptom": OOM}),
        ({"symptom": HANG}, {"symptom": HANG}),
        ({"stage": "Inference"}, {"stage": "Inference"}),
        ({"stage": "Fine-tuning"}, {"stage": "Fine-tuning"}),
        (None, {"symptom": OOM}),
        ({"symptom": OOM}, None),
    ]
    scope_a, scope_b = [], []
    for record_a, record_b in plan:
        item = labels.item()
        for user, record, scopes in ((a, record_a, scope_a), (b, record_b, scope_b)):
            if record is None:
                labels.annotate(item, user, [], out_of_scope=True)
            else:
                labels.annotate(item, user, [record])
            scopes.append("out" if record is None else "in")
    report = build_agreement_report(project=project, portable=portable)
    scope = row(report, "scope")
    assert scope["n"] == 6
    assert scope["percent_agreement"] == pytest.approx(4 / 6)
    assert scope["kappa"] == pytest.approx(cohen_kappa_score(scope_a, scope_b))
    assert row(report, "record_count")["n"] == 4


def test_hidden_names_are_the_stable_pseudonyms_whatever_the_filter(project, cast, labels):
    """With names hidden, the agreement report numbered annotators by rank among those the
    (filtered) report saw: excluding the calibration items renamed annotator_b from
    "Annotator 2" to "Annotator 1", and neither name matched the pseudonyms of the
    exports and of the methods section."""
    from analysis.methods import methods_facts
    from annotate.access import pseudonym

    project.hide_annotator_names = True
    project.save()
    a, b, c = cast["annotator_a"], cast["annotator_b"], third_annotator(project)
    calibration = labels.item(calibration=True)
    labels.annotate(calibration, a, [{"symptom": OOM}])
    labels.annotate(calibration, b, [{"symptom": OOM}])
    for first, second in [(OOM, OOM), (HANG, OOM), (HANG, HANG)]:
        item = labels.item()
        labels.annotate(item, b, [{"symptom": first}])
        labels.annotate(item, c, [{"symptom": second}])
    expected = {u.pk: pseudonym(project.pk, u.pk) for u in (a, b, c)}
    everything = build_agreement_report(project=project)
    filtered = build_agreement_report(project=project, exclude_calibration=True)
    assert everything.annotators == expected
    assert filtered.annotators == {pk: expected[pk] for pk in (b.pk, c.pk)}
    coders = {p["name"] for p in methods_facts(project)["coders"]["coders"]}
    assert set(everything.annotators.values()) == coders


def test_methods_section_counts_the_live_codebook_not_retired_categories(project, cast, labels):
    """Retiring a category (or merging one away, which retires the source) left the
    methods section's category count, and its number of levels, unchanged: the paper
    would describe a codebook larger than the one coders used."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_markdown
    from annotate.codebook import services as codebook
    from annotate.models import Category

    symptom = project.dimensions.get(key="symptom")
    live_before = Category.objects.filter(dimension=symptom, retired=False).count()
    # Retire one leaf, and merge a whole level-1 subtree away (depth 3 stays: CUDA errors).
    codebook.retire_category(project=project, actor=cast["lead"],
                             category=labels.category("symptom", KERNEL))  # fmt: skip
    root_cause = project.dimensions.get(key="root_cause")
    cause_tops = list(Category.objects.filter(dimension=root_cause, parent=None, retired=False))
    codebook.retire_category(project=project, actor=cast["lead"], category=cause_tops[0])
    facts = methods_facts(project)
    dims = {d["key"]: d for d in facts["codebook"]["dimensions"]}
    expected_symptom = Category.objects.filter(dimension=symptom, retired=False).count()
    assert expected_symptom == live_before - 1
    assert dims["symptom"]["categories"] == expected_symptom
    expected_cause = Category.objects.filter(dimension=root_cause, retired=False).count()
    assert dims["root_cause"]["categories"] == expected_cause
    text = methods_markdown(facts)
    assert f"Symptom (3 levels, {expected_symptom} categories; 1 retired)" in text


def test_per_category_interval_with_a_standard_error_of_zero_is_undefined(
    project, cast, labels, client_for
):
    """Two items, both coders agree on each stage: every one-vs-rest 2 x 2 is perfect with
    an asymptotic SE of 0. The summary row rightly has no interval; the per-category rows
    printed a zero-width 95% CI "1.00 – 1.00" on the page and in the downloads."""
    from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

    a, b = cast["annotator_a"], cast["annotator_b"]
    for stage in ("Fine-tuning", "Inference"):
        item = labels.item()
        labels.annotate(item, a, [{"symptom": HANG, "stage": stage}])
        labels.annotate(item, b, [{"symptom": HANG, "stage": stage}])
    report = build_agreement_report(project=project)
    assert row(report, "stage")["ci_low"] is None
    for category in report.level("stage", 1).categories:
        assert category["kappa"] == pytest.approx(sm_kappa(np.array([[1, 0], [0, 1]])).kappa)
        assert category["se"] == 0
        assert category["ci_low"] is None and category["ci_high"] is None
        assert category["ci_undefined"]
    url = f"/projects/{project.slug}/agreement/"
    page = client_for(cast["lead"]).get(url, {"dimension": "stage", "level": 1})
    assert "1.00 – 1.00" not in page.content.decode()
    csv_text = (
        client_for(cast["lead"])
        .get(url + "tables/categories.csv", {"dimension": "stage", "level": 1})
        .content.decode()
    )
    assert "1.000000,1.000000,0" not in csv_text


def test_category_downloads_say_why_a_kappa_is_undefined(project, cast, labels, client_for):
    """The summary downloads carry an "undefined" column; the per-category ones printed an
    undefined kappa as an empty cell (CSV) or "--" (LaTeX) with no reason. Here annotator
    A used Hang only, so every one-vs-rest kappa is 0 whatever the agreement."""
    a, b = cast["annotator_a"], cast["annotator_b"]
    for second in (HANG, OOM, HANG):
        item = labels.item()
        labels.annotate(item, a, [{"symptom": HANG}])
        labels.annotate(item, b, [{"symptom": second}])
    level = build_agreement_report(project=project).level("symptom", 1)
    reasons = {c["undefined"] for c in level.categories}
    assert None not in reasons
    url = f"/projects/{project.slug}/agreement/tables/categories"
    query = {"dimension": "symptom", "level": 1}
    for fmt in ("csv", "tex"):
        text = client_for(cast["lead"]).get(f"{url}.{fmt}", query).content.decode()
        assert all(reason.split(",")[0] in text for reason in reasons), fmt


def test_correlation_table_download_carries_the_compositional_caveat(
    project, cast, client_for, repos, labels
):
    """The page puts a caveat beside the Pearson correlations between compositional
    distributions; the LaTeX table a paper would paste had none."""
    for group, paths in (("Qwen", [OOM, OOM, HANG, KERNEL]), ("Llama", [HANG, HANG, OOM])):
        for path in paths:
            labels.settle(labels.item(repos[group]), [{"symptom": path, "stage": "Inference"}])
    url = f"/projects/{project.slug}/distributions/tables/rq4-correlation.tex"
    response = client_for(cast["lead"]).get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "composition" in text and "Aitchison 1986" in text


def test_agreement_of_discussed_items_uses_the_independent_first_round(project, cast):
    """An item that went to discussion holds its annotators' revised labels, made after
    seeing each other's: not independent. The report read the current labels, so a
    disagreement that discussion resolved counted as an agreement by default (and in
    the methods section): inter-rater agreement inflated by the adjudication process.
    Expected: the frozen first round (what each coder chose alone), as scikit-learn
    computes it."""
    from sklearn.metrics import cohen_kappa_score

    from analysis.methods import methods_facts
    from annotate.adjudication.discussion import start_discussion
    from tests.builders import DEVICE, in_conflict, label_both, record, revise
    from tests.factories import ItemFactory

    plan = [(OOM, OOM), (DEVICE, DEVICE), (OOM, OOM), (DEVICE, DEVICE)]
    for first, second in plan:
        label_both(ItemFactory(project=project), cast, [record(first)], [record(second)])
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    start_discussion(item=item, actor=cast["lead"])
    revise(item, cast["annotator_b"], [record(OOM)])  # B now agrees with A: settled
    plan.append((OOM, DEVICE))
    expected = cohen_kappa_score([a for a, _ in plan], [b for _, b in plan])
    for portable in (False, True):
        symptom = row(build_agreement_report(project=project, portable=portable), "symptom", 3)
        assert symptom["n"] == 5
        assert symptom["percent_agreement"] == pytest.approx(4 / 5)
        assert symptom["kappa"] == pytest.approx(expected)
    methods = next(r for r in methods_facts(project)["agreement"]["rows"]
                   if r["dimension"] == "symptom" and r["level"] == 3)  # fmt: skip
    assert methods["kappa"] == pytest.approx(expected)


def test_kappa_standard_error_treats_items_not_records_as_independent(project, cast, labels):
    """Twelve items, each with four identical failure records per coder: the records of one
    item are one rating repeated, so the information is that of 12 items, not 48 units.
    The asymptotic SE of Fleiss, Cohen & Everitt (1969) over the 48 units was half the
    item-level SE, and with fewer than 30 items the 95% CI was built on it: too narrow by
    a factor of two. Expected: the SE of a delete-one-item jackknife, within 20%."""
    from sklearn.metrics import cohen_kappa_score

    a, b = cast["annotator_a"], cast["annotator_b"]
    plan = [(OOM, OOM)] * 4 + [(HANG, HANG)] * 4 + [(KERNEL, KERNEL)] * 2
    plan += [(OOM, HANG), (KERNEL, OOM)]
    for first, second in plan:
        item = labels.item()
        labels.annotate(item, a, [{"symptom": first}] * 4)
        labels.annotate(item, b, [{"symptom": second}] * 4)
    symptom = row(build_agreement_report(project=project), "symptom", 3)
    kappa = cohen_kappa_score([x for x, _ in plan], [y for _, y in plan])
    assert symptom["n"] == 12 and symptom["kappa"] == pytest.approx(kappa)
    leave_one_out = [
        cohen_kappa_score([x for j, (x, _) in enumerate(plan) if j != i],
                          [y for j, (_, y) in enumerate(plan) if j != i])
        for i in range(len(plan))
    ]  # fmt: skip
    n = len(plan)
    spread = ((np.array(leave_one_out) - np.mean(leave_one_out)) ** 2).sum()
    jackknife = np.sqrt((n - 1) / n * spread)
    assert symptom["se"] == pytest.approx(jackknife, rel=0.2)
    # Wald on atanh(kappa), back-transformed: about 2 x 1.96 SE wide.
    assert symptom["ci_high"] - symptom["ci_low"] > 0.8 * 2 * 1.96 * jackknife


def test_the_standard_error_says_how_it_was_computed_on_page_and_downloads(
    project, cast, labels, client_for
):
    """Rows take their SE by different methods (asymptotic, item bootstrap, jackknife);
    the page and the CSV showed the number alone."""
    from django.utils.html import escape

    a, b = cast["annotator_a"], cast["annotator_b"]
    for first, second in [(OOM, OOM), (HANG, HANG), (OOM, HANG), (KERNEL, KERNEL)]:
        item = labels.item()
        labels.annotate(item, a, [{"symptom": first}])
        labels.annotate(item, b, [{"symptom": second}])
    method = row(build_agreement_report(project=project), "symptom", 3)["se_method"]
    assert method
    client = client_for(cast["lead"])
    page = client.get(f"/projects/{project.slug}/agreement/").content.decode()
    assert escape(method) in page
    csv_text = client.get(f"/projects/{project.slug}/agreement/tables/summary.csv")
    assert "se_method" in csv_text.content.decode().splitlines()[0]


def test_undefined_bias_corrected_v_says_why():
    """Two records, one in each diagonal cell: chi-square 2 (scipy), Cramér's V 1, and
    Bergsma's corrected V undefined (r~ = k~ = 2 - 1/(n - 1) = 1). The page printed
    "bias-corrected V = undefined" with no reason."""
    from scipy import stats

    from analysis import metrics
    from analysis.dashboard import chi2_summary

    table = [[1, 0], [0, 1]]
    result = metrics.chi_square(table)
    chi2 = stats.chi2_contingency(np.array(table), correction=False)[0]
    assert result.chi2 == pytest.approx(chi2) and result.cramers_v == pytest.approx(1.0)
    assert result.cramers_v_corrected is None
    effect = chi2_summary({"chi2": result.as_dict()})["effect"]
    assert "bias-corrected V (Bergsma 2013) = undefined (too few records" in effect


def test_perfect_agreement_over_thirty_items_has_no_zero_width_interval(project, cast, labels):
    """Thirty items, both coders agreeing on every stage (two categories): kappa is 1 and
    every bootstrap resample gives 1, so the percentile "95% CI" was [1, 1], a
    zero-width interval claiming certainty; with 29 items the same data rightly had no
    interval ("kappa at its bound"). Expected: the same undefined interval, with a
    reason, whatever the number of items."""
    a, b = cast["annotator_a"], cast["annotator_b"]
    for index in range(30):
        stage = "Inference" if index % 3 else "Fine-tuning"
        item = labels.item()
        labels.annotate(item, a, [{"symptom": HANG, "stage": stage}])
        labels.annotate(item, b, [{"symptom": HANG, "stage": stage}])
    stage = row(build_agreement_report(project=project), "stage")
    assert stage["n"] == 30 and stage["kappa"] == pytest.approx(1.0)
    assert stage["ci_low"] is None and stage["ci_high"] is None
    assert "no confidence interval" in stage["undefined"]


def test_bootstrap_figures_do_not_depend_on_the_order_rows_arrive_in(db):
    """The Python pairing kept items in the order the database returned their annotations
    (the queries have no ORDER BY), and the scope and record-count rows identify items by
    that position: the seeded item bootstrap then drew differently, so the same data gave
    another SE from one call to the next (seen once as the PostgreSQL and portable paths
    disagreeing). Same rows in reverse order must give the same figures."""
    from datetime import UTC, datetime

    from analysis.agreement import _scope_and_records
    from analysis.agreement_counts import Counts, pair_items

    at = datetime(2026, 1, 5, tzinfo=UTC)
    annotations, labels_rows = [], []
    for item in range(1, 13):
        for annotator in (1, 2, 3):
            out = (item + annotator) % 5 == 0
            annotations.append((item, item * 10 + annotator, annotator, out, at, 1, ""))
            if not out:
                for record in range(1 + (item * annotator) % 3):
                    labels_rows.append((item, annotator, record, 7, 100 + (item + record) % 3))
    figures = []
    for order in (1, -1):
        counts = Counts()
        pair_items(annotations[::order], labels_rows[::order], counts, unpaired="missing",
                   breakdowns=False)  # fmt: skip
        figures.append([{k: r[k] for k in ("n", "kappa", "se", "ci_low", "ci_high")}
                        for r in _scope_and_records(counts)])  # fmt: skip
    assert figures[0] == figures[1]


def gwet_ac1_textbook(units, categories):
    """Gwet's (2014) AC1 for any number of raters, as irrCAC's gwet.ac1.raw: agreement is
    the mean over units of sum_k r_k (r_k - 1) / (r (r - 1)), pi_k the mean over units of
    r_k / r, chance agreement sum_k pi_k (1 - pi_k) / (q - 1)."""
    r = np.array([[u.count(c) for c in categories] for u in units], dtype=float)
    ri = r.sum(axis=1)
    pa = ((r * (r - 1)).sum(axis=1) / (ri * (ri - 1))).mean()
    pi = (r / ri[:, None]).mean(axis=0)
    pe = (pi * (1 - pi)).sum() / (len(categories) - 1)
    return (pa - pe) / (1 - pe)


def test_gwet_ac1_weights_every_unit_once_with_missing_ratings(project, cast, labels):
    """Three coders, some items rated by two of them: AC1 came from Krippendorff's
    coincidence matrix, which weights a unit by its number of values, so it was 0.4344
    where Gwet's (and irrCAC's) AC1 is 0.4210 on the data of this test. With two values per
    unit both weightings agree (covered by the two-coder tests)."""
    a, b, c = cast["annotator_a"], cast["annotator_b"], third_annotator(project)
    rng = np.random.default_rng(5)
    cats = [OOM, KERNEL, HANG]
    units = []
    for index in range(25):
        truth = cats[rng.integers(3)]
        values = [truth if rng.random() < 0.7 else cats[rng.integers(3)] for _ in range(3)]
        if index % 3 == 0:
            values[index % 3 if index % 2 else 2] = None
        item = labels.item()
        for user, value in zip((a, b, c), values, strict=True):
            if value is not None:
                labels.annotate(item, user, [{"symptom": value}])
        units.append([v for v in values if v is not None])
    for portable in (False, True):
        symptom = row(build_agreement_report(project=project, portable=portable), "symptom", 3)
        assert symptom["ac1"] == pytest.approx(gwet_ac1_textbook(units, cats))
