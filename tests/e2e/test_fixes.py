"""The fix beside the issue, in the browser: an annotator on the labeling page and a lead on
the conflict page see the closing pull request (title, merged, diff size, link); a
hostile title stays text."""

from datetime import UTC, datetime

from playwright.sync_api import expect

from annotate.labeling.queue import next_item
from mining.models import FixLink
from tests.builders import DEVICE, OOM, in_conflict, record
from tests.factories import ItemFactory

HOSTILE = "Fix OOM <img src=x onerror=\"alert('fix title ran')\">"


def closing_fix(issue) -> FixLink:
    return FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.CLOSING_PR,
        ref="meta-llama/llama3#412",
        number=412,
        url="https://github.com/meta-llama/llama3/pull/412",
        title=HOSTILE,
        state="MERGED",
        merged=True,
        merged_at=datetime(2024, 3, 2, tzinfo=UTC),
        files_changed=3,
        additions=41,
        deletions=7,
    )


def test_annotator_sees_the_fix_beside_the_issue(page, live_server, login, project, cast):
    ItemFactory(project=project)
    item = next_item(project=project, user=cast["annotator_a"])
    closing_fix(item.issue)
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/{item.pk}/")

    fixes = page.locator(".label-issue .issue-fixes")
    expect(fixes).to_be_visible()
    expect(fixes.locator(".fix-title")).to_have_text(HOSTILE)  # text, not parsed as markup
    link = fixes.locator("a.fix-ref")
    expect(link).to_have_text("meta-llama/llama3#412")
    expect(link).to_have_attribute("href", "https://github.com/meta-llama/llama3/pull/412")
    expect(fixes).to_contain_text("merged 2024-03-02")
    expect(fixes).to_contain_text("+41 −7 in 3 files")
    assert fixes.locator("img").count() == 0
    assert page.dialogs == []


def test_lead_sees_the_fix_on_the_conflict_page(page, live_server, login, project, cast):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    closing_fix(item.issue)
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/conflicts/{item.pk}/")

    fixes = page.locator(".issue-fixes")
    expect(fixes).to_be_visible()
    expect(fixes).to_contain_text("closing pull request")
    expect(fixes.locator(".fix-title")).to_have_text(HOSTILE)
    assert page.dialogs == []
