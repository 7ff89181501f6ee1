"""The Reporting page in a browser: reached from the project navigation, it shows the methods
section of an imported study and of the demo, with the numbers of their databases."""

from playwright.sync_api import expect

from analysis.agreement import build_agreement_report
from analysis.methods import methods_facts
from annotate.demo import DEMO_SLUG, seed_demo
from annotate.models import FinalLabel, Item
from dataset.importing import collect_sources, import_dataset
from tests.annotate.test_import import FIXTURES


def _open_reporting(page, live_server, slug):
    page.goto(f"{live_server.url}/projects/{slug}/")
    page.locator("nav.project-nav").get_by_role("link", name="Reporting").click()
    page.wait_for_url(f"**/projects/{slug}/reporting/")
    return page.locator("#methods-markdown")


def test_reporting_page_of_an_imported_study(page, live_server, login, project, cast):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    settled = Item.objects.filter(project=project, state=Item.State.SETTLED).count()
    imported = FinalLabel.objects.filter(item__project=project, provenance="imported").count()
    records = methods_facts(project)["scope"]["final_records"]
    assert settled and imported == settled
    login(page, "lead")
    markdown = _open_reporting(page, live_server, project.slug)
    expect(markdown).to_contain_text(
        f"Settled: {settled} items, 0 unanimous (the coders agreed on every dimension and "
        f"record), 0 adjudicated by a lead and {imported} imported with their final labels."
    )
    expect(markdown).to_contain_text(f"The in-scope items hold {records} failure records")
    expect(markdown).to_contain_text("No pool definition is stored with the project")
    expect(markdown).to_contain_text("No agreement figure yet")
    expect(markdown).to_contain_text(
        f"0 by one and {settled} by none ({imported} of them carry final labels imported"
    )
    latex = page.locator("#methods-latex")
    expect(latex).to_contain_text("\\subsection*{Reliability and procedure}")
    expect(page.locator("#methods-preview h2").nth(1)).to_have_text("Reliability and procedure")
    assert page.dialogs == []


def test_reporting_page_of_the_demo(page, live_server, login, db):
    seed_demo(password="pw-for-tests-123", per_repository=4)
    from annotate.models import Project

    project = Project.objects.get(slug=DEMO_SLUG)
    facts = methods_facts(project)
    rows = build_agreement_report(project=project).rows()
    symptom = next(r for r in rows if r["dimension"] == "symptom" and r["level"] == 1)
    login(page, "lead")
    markdown = _open_reporting(page, live_server, DEMO_SLUG)
    coding = facts["coding"]
    expect(markdown).to_contain_text(
        f"Of {coding['items']} items, {coding['double_coded']} were coded by two or more coders"
    )
    expect(markdown).to_contain_text("2 coders submitted")
    if symptom["kappa"] is not None and symptom["ci_low"] is not None:
        cell = f"{symptom['kappa']:.3f} [{symptom['ci_low']:.3f}, {symptom['ci_high']:.3f}]"
    elif symptom["kappa"] is not None:
        # Too few items for an interval: the κ stands with its interval marked undefined.
        cell = f"{symptom['kappa']:.3f} (CI undefined)"
    else:
        cell = "undefined ("
    expect(markdown).to_contain_text(f"| Symptom | level 1 | Cohen's κ | {symptom['n']} |")
    expect(markdown).to_contain_text(cell)
    # The preview renders the agreement table as a table.
    expect(page.locator("#methods-preview table")).to_be_visible()
    assert page.dialogs == []
