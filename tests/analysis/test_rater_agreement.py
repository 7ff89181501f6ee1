"""The human-machine agreement rows against hand counts: a rater's latest run against the
final labels, the human majority and each annotator, per level; run-to-run agreement;
bias per category; the delegation curve; and who may read them (API and page)."""

import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.rater_agreement import build_rater_report
from annotate.models import Item, RaterLabel, RaterRun
from annotate.raters import runs
from tests.builders import ASSERTION, HANG, OOM, LabelBuilder

# item: (annotator_a, annotator_b, final, machine, confidence)
WORLD = [
    (OOM, OOM, OOM, OOM, 0.9),
    (OOM, HANG, HANG, HANG, 0.8),
    (HANG, HANG, HANG, OOM, 0.6),
    (ASSERTION, OOM, OOM, ASSERTION, 0.95),
]


@pytest.fixture
def world(project, cast):
    build = LabelBuilder(project)
    rater = runs.add_rater(project=project, user=None, kind="builtin", name="tfidf")
    first = RaterRun.objects.create(rater=rater, number=1, codebook_version=1, status="succeeded")
    latest = RaterRun.objects.create(rater=rater, number=2, codebook_version=1, status="succeeded")
    for position, (a, b, final, machine, confidence) in enumerate(WORLD):
        item = build.item(position=position)
        build.annotate(item, cast["annotator_a"], [{"symptom": a}])
        build.annotate(item, cast["annotator_b"], [{"symptom": b}])
        build.settle(item, [{"symptom": final}])
        symptom = build.dimensions["symptom"]
        # The first run differs from the latest on the third item only.
        first_choice = HANG if position == 2 else machine
        for run, path in ((first, first_choice), (latest, machine)):
            RaterLabel.objects.create(
                run=run, item=item, record=0, dimension=symptom,
                category=build.category("symptom", path), confidence=confidence,
            )  # fmt: skip
    assert Item.objects.filter(project=project, state="settled").count() == 4
    return rater


def _row(report, dimension, level, versus):
    (rater,) = report["raters"]
    (row,) = [
        r for r in rater["rows"]
        if (r["dimension"], r["level"], r["versus"]) == (dimension, level, versus)
    ]  # fmt: skip
    return row


def test_rater_rows_against_final_majority_and_each_annotator(project, world):
    report = build_rater_report(project)
    (rater,) = report["raters"]
    assert rater["run"] == 2
    machine = [w[3] for w in WORLD]
    final = _row(report, "symptom", 3, "final")
    assert (final["n"], final["percent_agreement"]) == (4, 0.5)
    expected = cohen_kappa_score(machine, [w[2] for w in WORLD])
    assert final["kappa"] == pytest.approx(expected)
    # The majority: items 1 and 3 (2 of 2 annotators); items 2 and 4 are ties.
    majority = _row(report, "symptom", 3, "majority")
    assert (majority["n"], majority["percent_agreement"]) == (2, 0.5)
    for name, column in (("annotator_a", 0), ("annotator_b", 1)):
        row = _row(report, "symptom", 3, f"annotator:{name}")
        humans = [w[column] for w in WORLD]
        assert row["n"] == 4
        assert row["kappa"] == pytest.approx(cohen_kappa_score(machine, humans))
    # Level 1: Crash, Hang, Crash, Crash against Hang... only the third item differs.
    assert _row(report, "symptom", 1, "final")["percent_agreement"] == 0.75
    assert _row(report, "stage", 1, "final")["n"] == 0


def test_delegation_curve_bias_and_run_to_run_agreement(project, world):
    (rater,) = build_rater_report(project)["raters"]
    curve = {c["dimension"]: c["points"] for c in rater["delegation"]}
    points = {p["threshold"]: p for p in curve["symptom"]}
    assert (points[0.0]["n"], points[0.0]["accuracy"]) == (4, 0.5)
    assert (points[0.7]["n"], points[0.7]["share"]) == (3, 0.75)
    assert points[0.7]["accuracy"] == pytest.approx(2 / 3)
    assert (points[0.9]["n"], points[0.9]["accuracy"]) == (2, 0.5)
    assert (points[0.95]["n"], points[0.95]["accuracy"]) == (1, 0.0)
    assert {p["threshold"]: p["n"] for p in curve["all"]} == {
        p["threshold"]: p["n"] for p in curve["symptom"]
    }
    bias = {(b["level"], b["category"]): b["ratio"] for b in rater["bias"]}
    assert bias[(3, OOM)] == 1.0
    assert bias[(3, HANG)] == 0.5
    assert bias[(3, ASSERTION)] is None
    stability = {(s["dimension"], s["level"]): s for s in rater["stability"]}
    assert stability[("symptom", 3)]["runs"] == 2 and stability[("symptom", 3)]["n"] == 4
    assert stability[("symptom", 3)]["all_alike"] == 0.75


def test_the_rater_agreement_api_and_page_are_for_leads_and_owners(
    project, world, cast, api_for, client_for
):
    url = f"/api/projects/{project.slug}/agreement/raters/"
    response = api_for(cast["lead"]).get(url)
    assert response.status_code == 200
    assert response.json()["raters"][0]["name"] == "tfidf"
    assert api_for(cast["annotator_a"]).get(url).status_code == 403
    assert api_for(cast["outsider"]).get(url).status_code == 404
    page = client_for(cast["owner"]).get(f"/projects/{project.slug}/agreement/raters/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "vs final labels" in html and 'id="delegation-' in html
    assert "Run-to-run agreement" in html
    assert (
        client_for(cast["annotator_b"])
        .get(f"/projects/{project.slug}/agreement/raters/")
        .status_code
        == 403
    )


def test_the_methods_section_reports_the_rater_beside_the_human_agreement(
    project, world, cast, api_for
):
    response = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/report/methods/")
    assert response.status_code == 200
    markdown = response.json()["markdown"]
    kappa = cohen_kappa_score(
        ["Crash", "Hang", "Crash", "Crash"], ["Crash", "Hang", "Hang", "Crash"]
    )
    assert "### Machine raters" in markdown
    assert "The agreement reported above is between humans only" in markdown
    assert f"κ symptom {kappa:.3f} (n = 4)" in markdown
    assert "At confidence 0.9 or more it covered 0.500 of the items" in markdown
    assert "Its stability was measured over 2 runs." in markdown
    latex = response.json()["latex"]
    assert r"\subsubsection*{Machine raters}" in latex


def test_the_machine_paragraph_is_cached_per_data_version_and_finished_runs(project, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analysis.cache import methods_facts

    first = methods_facts(project)["machines"]
    assert [m["run"] for m in first] == [2]
    with CaptureQueriesContext(connection) as warm:
        again = methods_facts(project)["machines"]
    # The data version (methods and machines alike) and the finished runs' ids.
    assert len(warm) <= 3, [q["sql"] for q in warm.captured_queries]
    assert again == first
    # A run that finishes is read at once (runs do not move the data version)...
    RaterRun.objects.create(rater=world, number=3, codebook_version=1, status="succeeded")
    assert [m["run"] for m in methods_facts(project)["machines"]] == [3]
    # ...and so is a renamed rater (the change is audited, which moves the version).
    runs.change_rater(rater=world, user=None, name="tfidf v2")
    assert [m["name"] for m in methods_facts(project)["machines"]] == ["tfidf v2"]
