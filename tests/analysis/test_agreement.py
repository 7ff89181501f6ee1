"""The agreement report from labels in the database, its page, downloads and API."""

import krippendorff
import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

from analysis.agreement import build_agreement_report
from annotate.models import Role
from annotate.projects.services import add_member

OOM = "Crash > CUDA Error > Out of Memory"
KERNEL = "Crash > CUDA Error > Kernel Error"
HANG = "Hang"


@pytest.fixture
def labeled(project, cast, labels):
    """Six items: A and B agree on four symptoms at the full path, differ in the leaf once
    (same level 1) and at level 1 once; one item of A has a second record B lacks."""
    a, b = cast["annotator_a"], cast["annotator_b"]
    plan = [(OOM, OOM), (OOM, OOM), (HANG, HANG), (KERNEL, KERNEL), (OOM, KERNEL), (OOM, HANG)]
    items = []
    for index, (sa, sb) in enumerate(plan):
        item = labels.item(calibration=index == 0, batch="pilot" if index == 0 else "")
        records_a = [{"symptom": sa, "stage": "Inference"}]
        if index == 1:
            records_a.append({"symptom": HANG, "stage": "Inference"})
        labels.annotate(item, a, records_a)
        labels.annotate(item, b, [{"symptom": sb, "stage": "Inference"}])
        items.append(item)
    return items


def level(report, key, lv):
    return next(r for r in report.rows() if r["dimension"] == key and r["level"] == lv)


def test_report_per_level_matches_statsmodels(project, labeled):
    report = build_agreement_report(project=project)
    full = level(report, "symptom", 3)
    top = level(report, "symptom", 1)
    assert full["n"] == 6 and full["unpaired"] == 1
    assert full["percent_agreement"] == pytest.approx(4 / 6)
    assert top["percent_agreement"] == pytest.approx(5 / 6)
    # Full path: categories in codebook order Kernel, OOM, Hang.
    detail = report.level("symptom", 3)
    assert detail.labels == [KERNEL, OOM, "Hang"]
    assert detail.matrix == [[1, 0, 0], [1, 2, 1], [0, 0, 1]]
    expected = sm_kappa(np.array(detail.matrix))
    assert full["kappa"] == pytest.approx(expected.kappa)
    assert full["se"] == pytest.approx(expected.std_kappa)
    a = [KERNEL, OOM, OOM, OOM, "Hang", OOM]
    b = [KERNEL, KERNEL, OOM, OOM, "Hang", "Hang"]
    codes = {KERNEL: 0, OOM: 1, "Hang": 2}
    alpha = krippendorff.alpha(
        reliability_data=[[codes[x] for x in a], [codes[x] for x in b]],
        level_of_measurement="nominal",
    )
    assert full["alpha"] == pytest.approx(alpha)
    stage = level(report, "stage", 1)
    assert stage["kappa"] is None and "one category" in stage["undefined"]


def test_exclude_calibration_filter(project, labeled):
    report = build_agreement_report(project=project, exclude_calibration=True)
    assert level(report, "symptom", 3)["n"] == 5
    full = build_agreement_report(project=project, breakdowns=True)
    assert {r["batch"] for r in full.by_batch} == {"pilot", "(none)"}
    assert build_agreement_report(project=project).by_batch == []


def test_three_annotators_pairs_and_alpha_weighting(project, cast, labels):
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    from django.contrib.auth import get_user_model

    c = get_user_model().objects.get(username="annotator_c")
    coders = [cast["annotator_a"], cast["annotator_b"], c]
    data = [(OOM, OOM, HANG), (HANG, HANG, HANG), (KERNEL, OOM, KERNEL), (OOM, OOM, None)]
    for values in data:
        item = labels.item()
        for user, value in zip(coders, values, strict=True):
            if value is not None:
                labels.annotate(item, user, [{"symptom": value}])
    report = build_agreement_report(project=project, breakdowns=True)
    codes = {KERNEL: 0, OOM: 1, HANG: 2}
    reliability = [[np.nan if v[i] is None else codes[v[i]] for v in data] for i in range(3)]
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert level(report, "symptom", 3)["alpha"] == pytest.approx(expected)
    pairs = {(r["annotator_a"], r["annotator_b"]) for r in report.pairs}
    assert ("annotator_a", "annotator_b") in pairs and len(pairs) == 3


def test_report_query_count_is_bounded(project, labeled, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        build_agreement_report(project=project)


def test_agreement_page_shows_numbers_and_conflict_links(project, cast, labeled, client_for):
    response = client_for(cast["lead"]).get(
        f"/projects/{project.slug}/agreement/?dimension=symptom&level=3"
    )
    assert response.status_code == 200
    html = response.content.decode()
    detail = build_agreement_report(project=project).level("symptom", 3)
    oom, kernel = detail.ids[1], detail.ids[0]
    assert f"/projects/{project.slug}/conflicts/?dimension=symptom&amp;pair={oom},{kernel}" in html
    assert f"{level(build_agreement_report(project=project), 'symptom', 3)['kappa']:.3f}" in html
    assert "<svg" in html


def test_agreement_htmx_returns_partial(project, cast, labeled, client_for):
    response = client_for(cast["owner"]).get(
        f"/projects/{project.slug}/agreement/?exclude_calibration=1", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b'id="report"' in response.content and b"<html" not in response.content


def test_agreement_page_loads_its_breakdowns_separately(project, cast, mixed, client_for):
    client = client_for(cast["lead"])
    page = client.get(f"/projects/{project.slug}/agreement/?exclude_discussed=1")
    html = page.content.decode()
    assert 'id="breakdown-weeks"' not in html
    lazy = "part=breakdowns"
    assert f'hx-get="/projects/{project.slug}/agreement/?exclude_calibration=&amp;' in html
    assert lazy in html and 'hx-trigger="load"' in html
    # htmx: the breakdowns alone, with the page's filters.
    url = f"/projects/{project.slug}/agreement/?exclude_discussed=1&{lazy}"
    partial = client.get(url, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and 'id="report"' not in body
    for name in ("pairs", "batches", "weeks", "versions"):
        assert f'id="breakdown-{name}"' in body, name
    report = build_agreement_report(project=project, breakdowns=True, exclude_discussed=True)
    assert len(report.by_week) > 0
    assert all(f"<td>{row['week']}</td>" in body for row in report.by_week if row["level"] == 1
               and row["dimension"] == "symptom")  # fmt: skip
    # Without JavaScript, the link shows the whole page with the breakdowns inline.
    full = client.get(url).content.decode()
    assert "<html" in full and 'id="breakdown-weeks"' in full and 'id="agreement-summary"' in full
    assert client_for(cast["annotator_a"]).get(url, HTTP_HX_REQUEST="true").status_code == 403


def test_agreement_tables_and_chart_download(project, cast, labeled, client_for):
    client = client_for(cast["lead"])
    base = f"/projects/{project.slug}/agreement/"
    cases = [
        ("tables/summary.csv", b"dimension,level,n"), ("tables/summary.tex", b"\\toprule"),
        ("tables/confusion.csv", b"Crash,4,1"), ("tables/weeks.csv", b"week"),
        ("chart.svg", b"<svg"), ("chart.png", b"\x89PNG"), ("chart.pdf", b"%PDF"),
    ]  # fmt: skip
    for path, needle in cases:
        response = client.get(base + path)
        assert response.status_code == 200, path
        assert needle in response.content[:2000], path
        assert "attachment" in response["Content-Disposition"]


def test_api_agreement_returns_the_page_numbers(project, cast, labeled, api_for):
    response = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/agreement/")
    assert response.status_code == 200
    reply = response.json()
    rows = reply["rows"]
    report = build_agreement_report(project=project)
    assert len(rows) == len(report.rows())
    assert reply["record_pairing"].startswith("by content") and reply["unpaired"] == "missing"
    row = next(r for r in rows if r["dimension"] == "symptom" and r["level"] == 3)
    for key in ("n", "percent_agreement", "kappa", "se", "ci_low", "ci_high", "alpha", "ac1"):
        assert row[key] == pytest.approx(level(report, "symptom", 3)[key])
    assert row["band"] == level(report, "symptom", 3)["band"]


def test_only_leads_and_owners_read_agreement(project, cast, api_for, client_for):
    expected = {"owner": 200, "lead": 200, "annotator_a": 403, "outsider": 404}
    for who, status in expected.items():
        api = api_for(cast[who]).get(f"/api/projects/{project.slug}/agreement/")
        page = client_for(cast[who]).get(f"/projects/{project.slug}/agreement/")
        table = client_for(cast[who]).get(f"/projects/{project.slug}/agreement/tables/summary.csv")
        assert (api.status_code, page.status_code, table.status_code) == (status,) * 3, who
    assert api_for(None).get(f"/api/projects/{project.slug}/agreement/").status_code == 401


def same(first, second):
    """Rows equal, floats to 1e-12 (the two paths may sum in another order)."""
    assert len(first) == len(second)
    for x, y in zip(first, second, strict=True):
        assert x.keys() == y.keys()
        for key, value in x.items():
            if isinstance(value, float):
                assert y[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key
            else:
                assert y[key] == value, key


@pytest.fixture
def mixed(project, cast, labels):
    """Three annotators over two weeks and two codebook versions: units with two and three
    labels, a second record only some annotators have, calibration and discussed items."""
    from datetime import UTC, datetime

    from annotate.models import Annotation

    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    from django.contrib.auth import get_user_model

    coders = [cast["annotator_a"], cast["annotator_b"]]
    coders.append(get_user_model().objects.get(username="annotator_c"))
    plan = [
        ((OOM, OOM, HANG), [0, 1, 2], {"calibration": True, "batch": "pilot"}),
        ((HANG, HANG, None), [0, 1], {}),
        ((KERNEL, OOM, KERNEL), [0, 1, 2], {"discussed": True}),
        ((OOM, KERNEL, OOM), [1, 2], {}),
        ((OOM, OOM, OOM), [0, 2], {"calibration": True, "batch": "pilot-2"}),
        ((HANG, OOM, KERNEL), [0, 1, 2], {}),
    ]
    for index, (values, who, fields) in enumerate(plan):
        item = labels.item(**fields)
        for position in who:
            records = [{"symptom": values[position], "stage": "Inference"}]
            if (index + position) % 3 == 0:
                records.append({"symptom": values[(position + 1) % 3] or OOM})
            annotation = labels.annotate(item, coders[position], records)
            Annotation.objects.filter(pk=annotation.pk).update(
                created_at=datetime(2025, 3, 3 + 7 * (index % 2) + position, 9, tzinfo=UTC),
                codebook_version=1 + (index >= 3),
            )


@pytest.mark.parametrize(
    "filters", [{}, {"exclude_calibration": True}, {"exclude_discussed": True}]
)
def test_sql_path_equals_portable_orm_path(project, mixed, filters):
    fast = build_agreement_report(project=project, breakdowns=True, **filters)
    orm = build_agreement_report(project=project, breakdowns=True, portable=True, **filters)
    same(fast.rows(), orm.rows())
    for d_fast, d_orm in zip(fast.dimensions, orm.dimensions, strict=True):
        for lv_fast, lv_orm in zip(d_fast.levels, d_orm.levels, strict=True):
            assert (lv_fast.ids, lv_fast.matrix) == (lv_orm.ids, lv_orm.matrix)
            same(lv_fast.categories, lv_orm.categories)
    for name in ("pairs", "by_batch", "by_week", "by_version"):
        same(getattr(fast, name), getattr(orm, name))
    assert len(fast.pairs) > 0 and len(fast.by_week) > len(fast.rows()) - 2
    assert fast.annotators == orm.annotators


def test_sql_path_query_counts(project, mixed, django_assert_num_queries):
    # Codebook (2), work_mem and JIT, the items that are not simple, the simple items' unit
    # scan, the other items' annotations and labels, the annotators' names.
    with django_assert_num_queries(8):
        build_agreement_report(project=project, breakdowns=True)


def test_sql_path_reads_no_labels_when_every_item_is_simple(
    project, cast, labels, django_assert_num_queries
):
    for first, second in [(OOM, OOM), (OOM, HANG), (HANG, HANG)]:
        item = labels.item()
        labels.annotate(item, cast["annotator_a"], [{"symptom": first}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": second}])
    with django_assert_num_queries(6):
        report = build_agreement_report(project=project, breakdowns=True)
    assert level(report, "symptom", 3)["n"] == 3
    assert report.record_count["n"] == 3 and report.record_count["percent_agreement"] == 1.0
    assert report.scope["n"] == 3 and report.scope["percent_agreement"] == 1.0


def test_the_page_and_its_breakdowns_share_one_computation(project, cast, mixed, client_for):
    """The page computes the report with its breakdowns once per data version; the
    breakdowns part it loads next reads the cached report (issue #16: the two used to
    compute everything twice, 0.36 s + 1.19 s at a million annotations)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(cast["lead"])
    base = f"/projects/{project.slug}/agreement/"
    with CaptureQueriesContext(connection) as cold:
        assert client.get(base).status_code == 200
    with CaptureQueriesContext(connection) as part:
        reply = client.get(f"{base}?part=breakdowns", HTTP_HX_REQUEST="true")
    assert reply.status_code == 200 and 'id="breakdown-weeks"' in reply.content.decode()
    units = [q["sql"] for q in part if "analysis_agreementunit" in q["sql"]]
    assert units == [] and len(part) < len(cold), (len(part), len(cold))
