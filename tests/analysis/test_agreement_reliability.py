"""Issue #13, agreement a paper can cite: records paired by content as adjudication pairs
them, scope and record-count rows, two or more raters by name, intervals in range and
undefined statistics, each against statsmodels, scikit-learn, krippendorff or hand values."""

import krippendorff
import numpy as np
import pytest
from django.contrib.auth import get_user_model
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from analysis.agreement import build_agreement_report
from annotate.adjudication.conflicts import conflict_queue
from annotate.adjudication.settling import settle_if_complete
from annotate.models import Annotation, Item, Role
from annotate.projects.services import add_member

OOM = "Crash > CUDA Error > Out of Memory"
KERNEL = "Crash > CUDA Error > Kernel Error"
HANG = "Hang"
NONE = 0  # analysis.agreement.NONE, the id of "(none)"


def row(report, key, lv=1):
    return next(r for r in report.rows() if r["dimension"] == key and r["level"] == lv)


def both_paths(project, **options):
    return [
        build_agreement_report(project=project, **options),
        build_agreement_report(project=project, portable=True, **options),
    ]


def third_annotator(project):
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    return get_user_model().objects.get(username="annotator_c")


def test_identical_records_in_opposite_orders_agree_perfectly(project, cast, labels):
    a, b = cast["annotator_a"], cast["annotator_b"]
    first = {"symptom": OOM, "stage": "Inference"}
    second = {"symptom": HANG, "stage": "Fine-tuning"}
    for index in range(20):
        item = labels.item()
        records = [first, second] if index % 2 else [second, first]
        labels.annotate(item, a, records)
        labels.annotate(item, b, records[::-1])
        # Adjudication settles such an item unanimously.
        assert settle_if_complete(item=item) == Item.State.SETTLED
    for report in both_paths(project):
        top = row(report, "symptom", 1)
        assert top["kappa"] == pytest.approx(1.0) and top["n"] == 20
        assert top["percent_agreement"] == 1.0 and top["unpaired"] == 0
        matrix = np.array(report.level("symptom", 1).matrix)
        assert matrix.sum() == 40 and np.trace(matrix) == 40  # no off-diagonal cell
        assert row(report, "stage")["kappa"] == pytest.approx(1.0)
        assert report.record_pairing.startswith("by content")


def test_report_pairs_records_as_adjudication_does(project, cast, labels):
    # No record is identical; in order they differ three times, matched optimally twice:
    # OOM/Inference with Kernel/Inference, Hang/Fine-tuning with Hang/Inference.
    item = labels.item()
    labels.annotate(
        item,
        cast["annotator_a"],
        [{"symptom": OOM, "stage": "Inference"}, {"symptom": HANG, "stage": "Fine-tuning"}],
    )
    labels.annotate(
        item,
        cast["annotator_b"],
        [{"symptom": HANG, "stage": "Inference"}, {"symptom": KERNEL, "stage": "Inference"}],
    )
    assert settle_if_complete(item=item) == Item.State.CONFLICT  # fmt: skip
    for report in both_paths(project):
        detail = report.level("symptom", 3)
        cells = {
            (detail.labels[i], detail.labels[j]): n
            for i, line in enumerate(detail.matrix) for j, n in enumerate(line) if n
        }  # fmt: skip
        assert cells == {(HANG, HANG): 1, (OOM, KERNEL): 1}
        # The off-diagonal cell's conflict link finds this item.
        oom, kernel = detail.ids[detail.labels.index(OOM)], detail.ids[detail.labels.index(KERNEL)]
        queue = conflict_queue(project, dimension="symptom", pair=(oom, kernel))
        assert list(queue) == [item]


def test_scope_disagreement_has_its_own_row_and_no_longer_hides(project, cast, labels):
    a, b = cast["annotator_a"], cast["annotator_b"]
    scope_plan = [(True, True)] * 5 + [(False, True), (True, False), (False, False)]
    for in_a, in_b in scope_plan:
        item = labels.item()
        for user, inside in ((a, in_a), (b, in_b)):
            if inside:
                labels.annotate(item, user, [{"symptom": OOM, "stage": "Inference"}])
            else:
                labels.annotate(item, user, [], out_of_scope=True)
    code = {True: 0, False: 1}
    table = np.zeros((2, 2))
    for in_a, in_b in scope_plan:
        table[code[in_a], code[in_b]] += 1
    expected = sm_kappa(table)
    for report in both_paths(project):
        scope = report.scope
        assert scope["dimension"] == "scope" and scope["n"] == 8
        assert scope["percent_agreement"] == pytest.approx(6 / 8)
        assert scope["kappa"] == pytest.approx(expected.kappa)
        assert scope["se"] == pytest.approx(expected.std_kappa)
        assert scope["kappa_statistic"] == "cohen"
        reliability = [[code[x] for x, _ in scope_plan], [code[y] for _, y in scope_plan]]
        assert scope["alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        )
        assert scope in report.rows()


def test_record_count_row_is_linearly_weighted_kappa(project, cast, labels):
    a, b = cast["annotator_a"], cast["annotator_b"]
    plan = [(1, 1)] * 6 + [(2, 2), (2, 1), (1, 2), (3, 1), (1, 3), (2, 3)]
    one = {"symptom": OOM}
    for count_a, count_b in plan:
        item = labels.item()
        labels.annotate(item, a, [one] * count_a)
        labels.annotate(item, b, [one] * count_b)
    x, y = [p[0] for p in plan], [p[1] for p in plan]
    table = np.zeros((3, 3))
    for i, j in plan:
        table[i - 1, j - 1] += 1
    for report in both_paths(project):
        counts = report.record_count
        assert counts["dimension"] == "record_count" and counts["weighting"] == "linear"
        assert counts["n"] == len(plan)
        assert counts["kappa"] == pytest.approx(cohen_kappa_score(x, y, weights="linear"))
        assert counts["kappa"] == pytest.approx(sm_kappa(table, wt="linear").kappa)
        assert counts["percent_agreement"] == pytest.approx(7 / 12)
        assert -1 <= counts["ci_low"] <= counts["kappa"] <= counts["ci_high"] <= 1


def test_unpaired_disagree_counts_a_missing_record_against_none(project, cast, labels):
    a, b = cast["annotator_a"], cast["annotator_b"]
    for index in range(6):
        item = labels.item()
        labels.annotate(item, a, [{"symptom": OOM}, {"symptom": HANG}][: 1 + (index < 3)])
        labels.annotate(item, b, [{"symptom": OOM}])
    for report in both_paths(project):
        # Default: the extra records are missing values; kappa is undefined (one category).
        default = row(report, "symptom")
        assert report.unpaired == "missing" and default["unpaired"] == 3
        assert default["kappa"] is None and default["undefined"]
    for report in both_paths(project, unpaired="disagree"):
        top = row(report, "symptom")
        detail = report.level("symptom", 1)
        assert detail.ids[-1] == NONE and detail.labels[-1] == "(none)"
        # Crash 6 agreed; Hang (A) against (none) (B) three times.
        expected = sm_kappa(np.array(detail.matrix))
        assert np.array(detail.matrix).sum() == 9
        assert top["kappa"] == pytest.approx(expected.kappa) and top["kappa"] < 1
        assert top["percent_agreement"] == pytest.approx(6 / 9) and top["unpaired"] == 0
        assert top["n"] == 6
        assert "disagreement against (none)" in report.unpaired_convention


def test_three_raters_report_fleiss_kappa_over_items(project, cast, labels):
    coders = [cast["annotator_a"], cast["annotator_b"], third_annotator(project)]
    cats = [OOM, HANG, KERNEL]
    rng = np.random.default_rng(3)
    data = []
    for _ in range(40):
        truth = rng.integers(3)
        values = [truth if rng.random() < 0.7 else rng.integers(3) for _ in coders]
        data.append(values)
        item = labels.item()
        for user, value in zip(coders, values, strict=True):
            labels.annotate(item, user, [{"symptom": cats[value]}])
    counts = np.array([[row.count(c) for c in range(3)] for row in data])
    expected = sm_fleiss(counts)
    for report in both_paths(project):
        full = row(report, "symptom", 3)
        assert full["kappa_statistic"] == "fleiss" and full["n"] == 40
        assert full["kappa"] == pytest.approx(expected)
        reliability = np.array(data).T
        assert full["alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        )
        # The SE is an item bootstrap: compare with one done here, by statsmodels.
        boot = np.random.default_rng(11)
        draws = [sm_fleiss(counts[boot.integers(0, 40, 40)]) for _ in range(1000)]
        assert full["se"] == pytest.approx(np.std(draws, ddof=1), rel=0.15)
        assert full["ci_method"].startswith("bootstrap percentile")
        assert -1 <= full["ci_low"] < full["kappa"] < full["ci_high"] <= 1


def test_three_raters_with_missing_ratings_report_lights_kappa(project, cast, labels):
    coders = [cast["annotator_a"], cast["annotator_b"], third_annotator(project)]
    cats = [OOM, HANG]
    rng = np.random.default_rng(5)
    data = []
    for index in range(36):
        truth = int(rng.integers(2))
        values = [truth if rng.random() < 0.8 else 1 - truth for _ in coders]
        values[index % 3] = None if index % 4 == 0 else values[index % 3]
        data.append(values)
        item = labels.item()
        for user, value in zip(coders, values, strict=True):
            if value is not None:
                labels.annotate(item, user, [{"symptom": cats[value]}])
    pairwise = []
    for x, y in ((0, 1), (0, 2), (1, 2)):
        shared = [(v[x], v[y]) for v in data if v[x] is not None and v[y] is not None]
        pairwise.append(cohen_kappa_score(*zip(*shared, strict=True)))
    for report in both_paths(project):
        top = row(report, "symptom", 1)
        assert top["kappa_statistic"] == "light" and top["n"] == 36
        assert top["kappa"] == pytest.approx(np.mean(pairwise))
        reliability = [[np.nan if v[i] is None else v[i] for v in data] for i in range(3)]
        assert top["alpha"] == pytest.approx(
            krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
        )


def test_intervals_stay_within_minus_one_and_one(project, cast, labels):
    # 99 of 100 agree on one of two categories: the Wald interval used to end at 1.019.
    a, b = cast["annotator_a"], cast["annotator_b"]
    plan = [(OOM, OOM)] * 50 + [(HANG, HANG)] * 49 + [(OOM, HANG)]
    for first, second in plan:
        item = labels.item()
        labels.annotate(item, a, [{"symptom": first}])
        labels.annotate(item, b, [{"symptom": second}])
    for report in both_paths(project):
        top = row(report, "symptom")
        assert -1 <= top["ci_low"] <= top["kappa"] <= top["ci_high"] <= 1
        assert top["ci_method"].startswith("bootstrap percentile")


def test_small_samples_take_a_bounded_interval(project, cast, labels):
    a, b = cast["annotator_a"], cast["annotator_b"]
    for first, second in [(OOM, OOM), (HANG, HANG), (OOM, HANG), (HANG, HANG), (OOM, OOM)]:
        item = labels.item()
        labels.annotate(item, a, [{"symptom": first}])
        labels.annotate(item, b, [{"symptom": second}])
    top = row(build_agreement_report(project=project), "symptom")
    assert top["ci_method"].startswith("Wald on atanh")
    assert -1 < top["ci_low"] < top["kappa"] < top["ci_high"] < 1


def test_undefined_statistics_are_null_with_a_reason_on_page_and_api(
    project, cast, labels, client_for, api_for
):
    # Every symptom is OOM: kappa is undefined; the page says so, with no band.
    for _ in range(3):
        item = labels.item()
        labels.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": OOM}])
    top = row(build_agreement_report(project=project), "symptom")
    assert top["kappa"] is None and top["se"] is None and top["ci_low"] is None
    assert top["band"] is None and "one category" in top["undefined"]
    assert top["percent_agreement"] == 1.0
    html = client_for(cast["lead"]).get(f"/projects/{project.slug}/agreement/").content.decode()
    summary = html[html.index('id="agreement-summary"') : html.index("</table>")]
    body = summary.index("<tbody>")
    # The first row with the row under it that says why a statistic is undefined.
    first = summary[body : summary.index("</tr>", summary.index("</tr>", body) + 1)]
    assert "100.0%" in first and "undefined" in first and "one category" in first
    assert "slight" not in first and "poor" not in first and "0.000" not in first
    reply = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/agreement/").json()
    api_row = next(r for r in reply["rows"] if r["dimension"] == "symptom")
    assert api_row["kappa"] is None and api_row["ci_low"] is None and api_row["undefined"]


def test_page_shows_percentages_with_one_decimal_and_the_convention(
    project, cast, labels, client_for
):
    for first, second in [(OOM, OOM), (OOM, HANG), (HANG, HANG)]:
        item = labels.item()
        labels.annotate(item, cast["annotator_a"], [{"symptom": first}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": second}])
    client = client_for(cast["lead"])
    html = client.get(f"/projects/{project.slug}/agreement/").content.decode()
    assert "66.7%" in html and "0.667" not in html
    assert "is a missing value" in html
    disagree = client.get(f"/projects/{project.slug}/agreement/?unpaired=disagree")
    assert "counts as a disagreement against (none)" in disagree.content.decode()
    api = client.get(f"/api/projects/{project.slug}/agreement/?unpaired=disagree").json()
    assert api["unpaired"] == "disagree"
    assert all(0 <= r["percent_agreement"] <= 1 for r in api["rows"] if r["percent_agreement"])


def test_out_of_scope_annotation_is_not_counted_as_unpaired_item(project, cast, labels):
    # One annotator out of scope: nothing to pair, the scope row shows the conflict.
    item = labels.item()
    labels.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    labels.annotate(item, cast["annotator_b"], [], out_of_scope=True)
    assert Annotation.objects.filter(out_of_scope=True).count() == 1
    for report in both_paths(project):
        assert report.scope["n"] == 1 and report.scope["percent_agreement"] == 0.0
        assert report.record_count["n"] == 0 and report.record_count["undefined"]


def test_a_project_without_labels_reports_every_row_undefined(project, cast, api_for):
    report = build_agreement_report(project=project, breakdowns=True)
    for r in report.rows():
        assert r["n"] == 0 and r["kappa"] is None and r["undefined"], r["dimension"]
        assert r["ci_low"] is None and r["band"] is None
    reply = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/agreement/").json()
    assert {r["dimension"] for r in reply["rows"]} >= {"scope", "record_count"}


def test_three_raters_out_of_scope_and_extra_records_agree_on_both_paths(project, cast, labels):
    coders = [cast["annotator_a"], cast["annotator_b"], third_annotator(project)]
    plan = [
        [[OOM], [OOM], [OOM, HANG]],
        [[HANG, OOM], [OOM, HANG], None],  # C out of scope; A and B in opposite orders
        [[KERNEL], [OOM], [KERNEL]],
        [[HANG], [HANG], [HANG]],
        [[OOM], None, None],
    ]
    for values in plan:
        item = labels.item()
        for user, symptoms in zip(coders, values, strict=True):
            if symptoms is None:
                labels.annotate(item, user, [], out_of_scope=True)
            else:
                labels.annotate(item, user, [{"symptom": s} for s in symptoms])
    for unpaired in ("missing", "disagree"):
        fast, slow = both_paths(project, unpaired=unpaired, breakdowns=True)
        assert fast.rows() == slow.rows()
        top = row(fast, "symptom")
        # Units with three ratings and with two: Light's kappa, n in items.
        assert top["kappa_statistic"] == "light" and top["n"] == 4
        assert fast.scope["n"] == 5 and fast.scope["kappa_statistic"] == "fleiss"
        assert fast.record_count["n"] == 4
        # Weighted: Fleiss' kappa is nominal, so the mean of weighted pairwise kappas.
        assert fast.record_count["kappa_statistic"] == "light"
    # disagree: C's Hang on item 1 is against "(none)"; A's OOM on item 5 has nobody in
    # scope to disagree with (the scope row counts that item), so it stays unpaired.
    assert row(fast, "symptom")["unpaired"] == 1
    missing = build_agreement_report(project=project)
    assert row(missing, "symptom")["unpaired"] == 2  # C's Hang on item 1; A's OOM on item 5


def test_one_sided_margins_show_undefined_not_kappa_zero_slight(project, cast, labels, client_for):
    # B says OOM every time: kappa is 0 by construction (SE 0, CI 0-0), no agreement measure.
    for first in [OOM, OOM, HANG, OOM, HANG, OOM]:
        item = labels.item()
        labels.annotate(item, cast["annotator_a"], [{"symptom": first}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": OOM}])
    top = row(build_agreement_report(project=project), "symptom")
    assert top["kappa"] is None and top["band"] is None and "single category" in top["undefined"]
    html = client_for(cast["lead"]).get(f"/projects/{project.slug}/agreement/").content.decode()
    summary = html[html.index('id="agreement-summary"') :]
    body = summary.index("<tbody>")
    # The first row with the row under it that says why a statistic is undefined.
    first = summary[body : summary.index("</tr>", summary.index("</tr>", body) + 1)]
    assert "single category" in first and "slight" not in first and "0.0000" not in first


def test_method_notes_number_each_distinct_method_once():
    """The page shows SE and CI methods as numbered notes under the table (a sentence per
    row squeezed the table past the page's width); rows carry the notes' numbers."""
    from analysis.reports import display_row, method_notes

    rows = [
        display_row({"kappa_statistic": "cohen", "se_method": "asymptotic", "ci_method": "wald"}),
        display_row({"kappa_statistic": "fleiss", "se_method": "bootstrap", "ci_method": "wald"}),
        display_row({"kappa_statistic": None, "se_method": None, "ci_method": None}),
    ]
    notes = method_notes(rows)
    assert notes == ["SE: asymptotic", "95% CI: wald", "SE: bootstrap"]
    assert [(r["se_note"], r["ci_note"]) for r in rows] == [(1, 2), (3, 2), (None, None)]
    assert [r["statistic_name"] for r in rows] == ["Cohen's", "Fleiss'", ""]
