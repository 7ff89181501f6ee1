"""Distributions of final (and annotators') labels: cross-tabs, the study's counts, pages,
downloads and the API."""

import html
import json
import re
from pathlib import Path

import pytest
from scipy import stats

from analysis import dashboard
from analysis.distributions import build_crosstab
from analysis.specs import Source, parse_spec
from tests.builders import GPU_MEMORY, OOM, bulk_final_records

STUDY = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "open-llm-failures"
STUDY_LEVEL1 = {
    "Crash": 295,
    "Incorrect Functionality": 240,
    "Loading Failure": 137,
    "Hang": 19,
    "Poor Performance": 15,
}
CAUSE = "Configuration and Parameter Setting Errors - Inference Configuration Error"
MIX = [
    ("Crash - CUDA Error - Out of Memory", 200, "QwenLM/Qwen", "Qwen"),
    ("Crash - Value-related Error - ShapeError", 95, "meta-llama/llama", "llama"),
    ("Incorrect Functionality - Generation Quality Anomaly", 240, "QwenLM/Qwen", "Qwen"),
    ("Loading Failure - Model Loading Error - Validation Failed", 137, "meta-llama/llama", "llama"),
    ("Hang - Fine-tuning Process Stuck", 19, "deepseek-ai/DeepSeek-V3", "DeepSeek-V3"),
    ("Poor Performance - Slow Inference Speed", 15, "meta-llama/llama", "llama3"),
]


def level1(table):
    return dict(zip(table.rows, (row[0] for row in table.counts), strict=True))


@pytest.fixture
def study_mix(project):
    """The study's level-1 symptom mix (706 records), the last two records on one issue."""
    records, number = [], 0
    for symptom, count, repo, model in MIX:
        for _ in range(count):
            number += 1
            records.append({
                "link": f"https://github.com/{repo}/issues/{number}", "status": "closed",
                "SYMPTOM": symptom, "ROOT CAUSE": CAUSE,
                "STAGE": "Inference" if number % 4 else "Fine-tuning", "model": model,
                "architecture": "Dense",
            })  # fmt: skip
    records[-1]["link"] = records[-2]["link"]
    return bulk_final_records(project, records)


def test_level1_symptoms_of_the_study_mix(project, study_mix):
    crosstab = build_crosstab(
        project=project, rows=parse_spec("dim:symptom@1"), cols=None, source=Source("final")
    )
    assert level1(crosstab) == STUDY_LEVEL1
    assert crosstab.total == 706 and len(study_mix) == 705  # two records on one issue


@pytest.mark.skipif(not STUDY.exists(), reason="the study's dataset (../shared) is not here")
def test_study_dataset_level1_symptom_counts(project):
    records = [r for path in sorted(STUDY.rglob("*.json")) for r in json.loads(path.read_text())]
    assert len(records) == 706
    bulk_final_records(project, records)
    crosstab = build_crosstab(
        project=project, rows=parse_spec("dim:symptom@1"), cols=None, source=Source("final")
    )
    assert level1(crosstab) == STUDY_LEVEL1


def test_crosstab_specs_and_chi_square(project, study_mix, django_assert_max_num_queries):
    final = Source("final")
    with django_assert_max_num_queries(4):  # the GROUP BY, the codebook's two, the groups
        table = build_crosstab(
            project=project, rows=parse_spec("group"), cols=parse_spec("dim:symptom@1"),
            source=final,
        )  # fmt: skip
    assert table.rows == ["QwenLM", "deepseek-ai", "meta-llama"]
    assert sum(map(sum, table.counts)) == 706
    chi2 = stats.chi2_contingency(table.counts, correction=False)[0]
    assert table.extras["chi2"]["chi2"] == pytest.approx(chi2)
    assert table.extras["chi2"]["cramers_v"] == pytest.approx((chi2 / (706 * 2)) ** 0.5)
    by_model = build_crosstab(
        project=project, rows=parse_spec("meta:model"), cols=parse_spec("dim:stage"),
        source=final,
    )  # fmt: skip
    assert dict(zip(by_model.rows, map(sum, by_model.counts), strict=True))["Qwen"] == 440
    issues_only = build_crosstab(
        project=project, rows=parse_spec("state"), cols=parse_spec("repo"), source=final
    )
    assert issues_only.total == 706  # records, not issues
    both_dims = build_crosstab(
        project=project, rows=parse_spec("dim:symptom@2"), cols=parse_spec("dim:root_cause@1"),
        source=final,
    )  # fmt: skip
    assert both_dims.total == 706 and "Crash > CUDA Error" in both_dims.rows


def test_a_group_or_model_axis_reads_the_project_views_once_not_per_label(project, study_mix):
    """The group and metadata of an item's repository came from a subquery run once per
    label, with the view's default order (a join and a sort per row): 1.07 s of a 1.5 s
    crosstab at 85,000 final records. The labels are grouped by repository and the views
    read once per axis; the same counts (the other tests here) in about half the time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    final = Source("final")
    with CaptureQueriesContext(connection) as captured:
        table = build_crosstab(
            project=project, rows=parse_spec("group"), cols=parse_spec("meta:model"),
            source=final,
        )  # fmt: skip
    per_row = [q["sql"] for q in captured if 'FROM "mining_projectrepository" U0' in q["sql"]]
    assert per_row == []
    views = [q for q in captured if q["sql"].startswith('SELECT "mining_projectrepository"')]
    assert len(views) == 2  # one per axis
    assert table.rows == ["QwenLM", "deepseek-ai", "meta-llama"]
    assert sum(map(sum, table.counts)) == 706


def test_shared_issues_counts_items_whatever_their_records_are_numbered(project, study_mix):
    """shared_issues counts only items with a record numbered above 0 (two distinct
    numbers >= 0 include one): records numbered from 1, or a lone record numbered 3, give
    the same answer as counting every item's distinct records."""
    from django.db.models import Count, F

    from analysis.distributions import shared_issues
    from annotate.models import FinalRecordLabel

    final = Source("final")
    assert shared_issues(project=project, source=final) == {"issues": 1, "records": 2}
    shared = FinalRecordLabel.objects.filter(record=1).values("item_id")
    moved = FinalRecordLabel.objects.filter(item_id__in=[r["item_id"] for r in shared])
    moved.update(record=F("record") + 10)  # 0, 1 -> 1, 2 in two steps (the unique key)
    moved.update(record=F("record") - 9)
    lone = FinalRecordLabel.objects.exclude(record__gt=0).values("item_id")[:1]
    FinalRecordLabel.objects.filter(item_id__in=lone).update(record=3)
    by_hand = [
        n
        for n in FinalRecordLabel.objects.values("item_id")
        .annotate(n=Count("record", distinct=True))
        .order_by()
        .values_list("n", flat=True)
        if n > 1
    ]
    assert by_hand == [2]
    assert shared_issues(project=project, source=final) == {"issues": 1, "records": 2}


def test_shared_issues_of_a_table_counts_only_the_records_in_its_cells(
    project, cast, labels, api_for
):
    """The dependence note under a chi-square test counted every record of the source: an
    issue with two records, one without a root cause, was said to 'contribute 2 records'
    to a symptom x root cause table that holds one of them (n = 2 of 2 issues)."""
    from analysis import dashboard
    from annotate.models import Membership

    two = [{"symptom": OOM, "root_cause": GPU_MEMORY}, {"symptom": OOM, "stage": "Inference"}]
    labels.settle(labels.item(), two)
    labels.settle(labels.item(), [{"symptom": "Hang", "root_cause": GPU_MEMORY}])
    params = {"rows": "dim:symptom@1", "cols": "dim:root_cause@1"}
    data = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/distribution/", params)
    assert data.json()["chi2"]["n"] == 2
    assert data.json()["shared_issues"] == {"issues": 0, "records": 0}
    by_stage = {"rows": "dim:symptom@1", "cols": "state"}  # every record is in the table
    data = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/distribution/", by_stage)
    assert data.json()["shared_issues"] == {"issues": 1, "records": 2}
    filters = dashboard.parse_filters({"view": "rq3"}, project)
    lead = Membership.objects.get(project=project, user=cast["lead"])
    access = dashboard.access_source(project=project, membership=lead, source=filters.source)
    panel = dashboard.build_panel(project=project, filters=filters, access=access)
    assert panel.table.total == 2
    assert panel.table.extras["shared_issues"] == {"issues": 0, "records": 0}
    assert "dependence" not in panel.chi2


def test_api_distribution_shape(project, cast, study_mix, api_for):
    response = api_for(cast["annotator_a"]).get(
        f"/api/projects/{project.slug}/distribution/",
        {"rows": "dim:symptom@1", "cols": "dim:stage"},
    )
    assert response.status_code == 200
    data = response.json()
    assert data["cols"] == ["Fine-tuning", "Inference"]
    counts = dict(zip(data["rows"], map(sum, data["counts"]), strict=True))
    assert counts == STUDY_LEVEL1
    assert all(isinstance(n, int) for row in data["counts"] for n in row)
    assert data["chi2"]["n"] == 706


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rows": "colour", "cols": "group"}, "is not a SPEC"),
        ({"rows": "dim:nope", "cols": "group"}, "no dimension 'nope'"),
        ({"rows": "dim:stage@2", "cols": "group"}, "has 1 level"),
        ({"rows": "group", "cols": "group", "source": "all"}, "not a source"),
    ],
)
def test_api_distribution_bad_spec_is_400_naming_it(project, cast, api_for, params, message):
    response = api_for(cast["lead"]).get(f"/api/projects/{project.slug}/distribution/", params)
    assert response.status_code == 400
    assert message in json.dumps(response.json())


def test_annotator_labels_are_private_until_settled(project, cast, labels, api_for):
    a, b = cast["annotator_a"], cast["annotator_b"]
    open_item, settled_item = labels.item(), labels.item()
    for item in (open_item, settled_item):
        labels.annotate(item, a, [{"symptom": "Hang"}])
        labels.annotate(item, b, [{"symptom": "Hang"}])
    labels.settle(settled_item, [{"symptom": "Hang"}])
    url = f"/api/projects/{project.slug}/distribution/"
    params = {"rows": "dim:symptom@1", "cols": "state"}

    def get(user, source):
        return api_for(user).get(url, {**params, "source": source})

    assert get(a, "annotator:annotator_b").status_code == 403
    own = get(a, "annotator:annotator_a")
    assert own.status_code == 200 and sum(map(sum, own.json()["counts"])) == 1  # settled only
    lead = get(cast["lead"], "annotator:annotator_b")
    assert lead.status_code == 200 and sum(map(sum, lead.json()["counts"])) == 2
    assert get(cast["lead"], "annotator:nobody").status_code == 400
    assert get(cast["outsider"], "final").status_code == 404
    page = f"/projects/{project.slug}/distributions/?source=annotator:annotator_b"
    from django.test import Client

    client = Client()
    client.force_login(a)
    assert client.get(page).status_code == 403


def test_distributions_page_views_charts_and_tables(project, cast, study_mix, client_for):
    client = client_for(cast["annotator_b"])
    base = f"/projects/{project.slug}/distributions/"
    for view in ("rq1", "rq2", "rq3", "rq4", "rq5", "rq6", "explore"):
        response = client.get(base, {"view": view, "group": "meta-llama"})
        assert response.status_code == 200, view
        page = response.content.decode()
        # The charts come after the page: each figure loads its own (htmx, on load).
        assert "<svg" not in page and 'id="crosstab"' in page
        urls = re.findall(r'hx-get="(\?[^"]*part=chart[^"]*)" hx-trigger="load"', page)
        assert len(urls) == len(dashboard.VIEWS[view][2]), view
        for url in urls:
            figure = client.get(base + html.unescape(url), HTTP_HX_REQUEST="true")
            assert figure.status_code == 200, url
            assert figure.content.startswith(b'<figure class="chart"') and b"<svg" in figure.content
    rq1 = client.get(base, {"view": "rq1"}).content.decode()
    assert "Crash" in rq1 and "295" in rq1
    partial = client.get(base, {"view": "rq4"}, HTTP_HX_REQUEST="true")
    assert b'id="panel"' in partial.content and b"<html" not in partial.content
    assert b'id="correlation"' in partial.content
    downloads = [
        ("charts/rq1/treemap.svg", b"<svg"), ("charts/rq3/heatmap.png", b"\x89PNG"),
        ("charts/rq5/percent.pdf", b"%PDF"), ("tables/rq1.csv", b"Crash,295"),
        ("tables/rq4-correlation.tex", b"\\toprule"), ("tables/rq3.tex", b"\\begin{tabular}"),
    ]  # fmt: skip
    for path, needle in downloads:
        response = client.get(base + path)
        assert response.status_code == 200, path
        assert needle in response.content[:3000], path
    assert client.get(base, {"rows": "bogus", "view": "explore"}).status_code == 200
    assert client.get(base, {"view": "nope"}).status_code == 400


def test_dollar_names_in_category_group_and_model_do_not_break_the_page(project, cast, client_for):
    """Category, group and model names with `$…$` (matplotlib mathtext) render literally in
    every view, chart and format instead of turning the page into a 500 (issue #12)."""
    from annotate.models import Category
    from mining.models import ProjectRepository

    symptom = project.dimensions.get(key="symptom")
    names = ["$x$", "$\\frac{", "$\\frac{$", "a$b$c"]
    for name in names:
        Category.objects.create(dimension=symptom, name=name, path=name, depth=1, order=90)
    records = [
        {
            "link": f"https://github.com/owner{i}/repo/issues/{i + 1}", "status": "closed",
            "SYMPTOM": name, "ROOT CAUSE": CAUSE, "STAGE": "Inference", "model": name,
            "architecture": "Dense",
        }
        for i, name in enumerate(names * 2)
    ]  # fmt: skip
    bulk_final_records(project, records)
    for i, name in enumerate(names):
        ProjectRepository.objects.filter(
            project=project, repository__owner__in=[f"owner{i}", f"owner{i + 4}"]
        ).update(group=name)
    client = client_for(cast["annotator_a"])
    base = f"/projects/{project.slug}/distributions/"
    from analysis import charts, dashboard

    for view, (_, _, kinds) in dashboard.VIEWS.items():
        params = {"view": view, "group": "$\\frac{"} if view == "rq6" else {"view": view}
        page = client.get(base, params)
        assert page.status_code == 200, view
        for kind in kinds:
            for fmt in charts.FORMATS:
                response = client.get(f"{base}charts/{view}/{kind}.{fmt}", params)
                assert response.status_code == 200, (view, kind, fmt)
    rq1 = client.get(base, {"view": "rq1"}).content.decode()
    assert all(name in rq1 for name in names)
