"""The Agreement page of an imported study (issue #15, defect 9): imported final labels have
no per-annotator labels, so there is no pair to compare; the page says so, why, and what
would produce agreement figures, instead of a column of empty tables."""

from playwright.sync_api import expect

from annotate.models import Item
from dataset.importing import collect_sources, import_dataset
from tests.annotate.test_import import FIXTURES
from tests.builders import LabelBuilder

OOM = "Crash > CUDA Error > Out of Memory"


def test_an_imported_study_without_pairs_says_why(page, live_server, login, project):
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    settled = Item.objects.filter(project=project, state=Item.State.SETTLED).count()
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/agreement/")
    notice = page.locator("#no-pairs")
    expect(notice).to_contain_text("No item has labels from two annotators")
    expect(notice).to_contain_text(f"{settled} items carry final labels imported")
    expect(notice).to_contain_text("at least two annotators")
    expect(page.locator("#agreement-summary")).to_have_count(0)
    expect(page.locator("#confusion")).to_have_count(0)
    expect(page.locator("#breakdowns table")).to_have_count(0)


def test_filters_that_leave_no_pairs_say_which_filter(page, live_server, login, project, cast):
    labels = LabelBuilder(project)
    item = labels.item(calibration=True)
    labels.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    labels.annotate(item, cast["annotator_b"], [{"symptom": OOM}])
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/agreement/?exclude_calibration=1")
    notice = page.locator("#no-pairs")
    expect(notice).to_contain_text("No item left by the filters")
    expect(notice).to_contain_text("Exclude calibration items")
    page.locator("input[name=exclude_calibration]").uncheck()
    expect(page.locator("#agreement-summary")).to_be_visible()
    expect(page.locator("#no-pairs")).to_have_count(0)
