"""Pages show people's names for things, not the code's (issue #15, defect 6): dimension
names instead of keys, event labels instead of audit kinds, the pool definition as a list
of filters, a cross-tab chosen from lists, rounded figures under readable headings."""

from django.core.management import call_command
from playwright.sync_api import expect

from annotate.models import AuditEvent, Project
from tests.builders import LabelBuilder
from tests.factories import IssueFactory, RepositoryFactory

OOM = "Crash > CUDA Error > Out of Memory"
HANG = "Hang"
CAUSE = "API Usage and Interface Issues"


def test_history_names_dimensions_and_events(page, live_server, login, project, cast):
    labels = LabelBuilder(project)
    item = labels.item()
    labels.settle(item, [{"symptom": OOM, "root_cause": CAUSE}])
    submitted = {"symptom": OOM, "root_cause": CAUSE}
    stored = [  # as the audit trail stores records (annotate.records)
        {"dimension": key, "category": labels.category(key, path).pk, "path": path, "evidence": ""}
        for key, path in submitted.items()
    ]
    AuditEvent.objects.create(
        project=project, item=item, actor=cast["annotator_a"], kind="annotation_submitted",
        payload={"annotation": 1, "out_of_scope": False,
                 "records": [{"record": 0, "labels": stored}]},
    )  # fmt: skip
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/items/{item.pk}/history/")
    main = page.locator("main")
    expect(page.locator("#final-label")).to_contain_text(f"Root cause: {CAUSE}")
    expect(page.locator("#history")).to_contain_text("Labels submitted")
    expect(page.locator("#history")).to_contain_text(f"Root cause: {CAUSE}")
    expect(main).not_to_contain_text("root_cause")
    expect(main).not_to_contain_text("annotation_submitted")


def test_pool_definition_is_a_list_of_filters(page, live_server, login, project):
    repo = RepositoryFactory(owner="QwenLM", name="Qwen")
    IssueFactory(repository=repo)
    project.sample_definition = {
        "repositories": [repo.pk], "groups": [], "state": "closed", "labels": ["bug"],
        "keywords": "", "regex": "", "created_after": None, "created_before": None,
        "min_comments": 1, "sample_size": 5, "seed": 7, "stratify": True,
        "selected": 5, "added": 5, "built_at": "2026-01-02T03:04:05+00:00", "built_by": "owner",
    }  # fmt: skip
    project.save(update_fields=["sample_definition"])
    login(page, "owner")
    page.goto(f"{live_server.url}/projects/{project.slug}/mining/pool/")
    definition = page.locator("#pool-definition")
    expect(definition).to_contain_text("Minimum comments")
    expect(definition).to_contain_text("stratified by repository")
    expect(definition).not_to_contain_text("min_comments")
    expect(definition).not_to_contain_text("built_by")


def test_cross_tab_is_chosen_from_lists(page, live_server, login, project):
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/distributions/?view=explore")
    rows = page.locator("select#id_rows")
    expect(rows.locator("option", has_text="Root cause, level 1")).to_have_count(1)
    rows.select_option(label="Root cause, level 1")
    page.locator("select#id_cols").select_option(label="Stage, level 1")
    page.wait_for_url("**rows=dim%3Aroot_cause%401**")
    table = page.locator("#crosstab")
    expect(table.locator("thead th").first).to_have_text("Root cause, level 1")
    expect(page.locator("#panel")).not_to_contain_text("dim:")


def test_agreement_tables_and_chart_use_names_and_rounded_figures(
    page, live_server, login, project, cast
):
    labels = LabelBuilder(project)
    plan = [(OOM, OOM), (OOM, HANG), (HANG, HANG), (OOM, OOM), (HANG, OOM), (OOM, OOM)]
    for index, (first, second) in enumerate(plan):
        item = labels.item(batch="pilot" if index < 3 else "main")
        labels.annotate(item, cast["annotator_a"], [{"symptom": first}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": second}])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/agreement/")
    batches = page.locator("#breakdown-batches")
    expect(batches).to_contain_text("pilot")
    header = batches.locator("thead")
    expect(header).to_contain_text("% agree")
    expect(header).not_to_contain_text("percent_agreement")
    expect(header).not_to_contain_text("kappa_statistic")
    for cell in batches.locator("tbody td").all_inner_texts():
        if cell.replace(".", "", 1).replace("-", "", 1).isdigit() and "." in cell:
            assert len(cell.split(".")[1]) <= 3, cell
    chart = page.locator("#report .chart svg")
    expect(chart).to_contain_text("Symptom, level 1")
    expect(chart).not_to_contain_text("symptom @1")


def test_a_project_made_by_a_command_keeps_its_slug_as_name(db, cast):
    call_command(
        "add_member", "lead", "--project", "open-llm-failures", "--role", "lead", "--owner", "owner"
    )
    assert Project.objects.get(slug="open-llm-failures").name == "open-llm-failures"
