"""The labeling page's progress line in the browser: after each swap (a submit, a skip, an
error, the end of the queue) it shows the caller's counts as they now are."""

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from annotate.models import Membership
from tests.e2e.test_labeling import label_record, wait_for_item
from tests.factories import IssueFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")


def line(page, text):
    expect(page.locator("#label-progress")).to_contain_text(text)
    expect(page.locator("#label-progress")).not_to_have_attribute("aria-busy", "true")


def test_the_progress_line_follows_submits_skips_errors_and_the_end(
    page, live_server, login, project
):
    first = ItemFactory(project=project, issue=IssueFactory(title="Skipped one"))
    second = ItemFactory(project=project, issue=IssueFactory(title="Labeled one"))
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    line(page, "You: 0 today · 0 in total · 2 left for you")

    page.keyboard.press("Alt+s")
    page.keyboard.type("not a failure report")
    page.keyboard.press("Enter")
    wait_for_item(page, second)
    line(page, "You: 0 today · 0 in total · 1 left for you")

    page.keyboard.press("Control+Enter")  # nothing picked: an error, the item stays
    expect(page.locator(".label-error")).to_be_visible()
    line(page, "You: 0 today · 0 in total · 1 left for you")

    label_record(page, "out of memory", "gpu memory", "inference")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".label-done")).to_be_visible()
    line(page, "You: 1 today · 1 in total · 0 left for you")
    line(page, "Project: 0 of 2 items settled")


def test_sent_to_calibration_mid_queue_the_submit_opens_the_calibration_page(
    page, live_server, login, project, cast
):
    """A lead may send an annotator through calibration while they label: their next
    Ctrl+Enter must take them to the calibration page, not swap that whole page (its header
    and navigation) into the labeling workspace."""
    first = ItemFactory(project=project, issue=IssueFactory(title="Labeled before the call"))
    ItemFactory(project=project)
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    Membership.objects.filter(project=project, user=cast["annotator_a"]).update(
        calibration=Membership.Calibration.PENDING
    )
    label_record(page, "out of memory", "gpu memory", "inference")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**/projects/{project.slug}/calibration/")
    expect(page.locator("h1")).to_have_text("Calibration")
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#workspace")).to_have_count(0)


def test_signed_out_meanwhile_the_submit_opens_the_login_page(page, live_server, login, project):
    """Signed out in another tab (or the session ended) during a long labeling session: the
    next Ctrl+Enter must open the login page, not swap it into the workspace."""
    first = ItemFactory(project=project, issue=IssueFactory(title="Labeled while signed out"))
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    label_record(page, "out of memory", "gpu memory", "inference")
    page.context.clear_cookies(name="sessionid")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#workspace")).to_have_count(0)
    back = parse_qs(urlsplit(page.url).query)["next"]
    assert back == [f"/projects/{project.slug}/label/{first.pk}/"]  # back here after it


def test_a_refused_submit_says_so_in_the_workspace(page, live_server, login, project, cast):
    """Removed from the project (or the item taken away) while labeling: the submit is
    refused (403/404), which htmx does not swap; the annotator must be told, not left
    pressing Ctrl+Enter on a page that does nothing."""
    first = ItemFactory(project=project, issue=IssueFactory(title="Labeled when removed"))
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    label_record(page, "out of memory", "gpu memory", "inference")
    Membership.objects.filter(project=project, user=cast["annotator_a"]).delete()
    page.keyboard.press("Control+Enter")
    alert = page.locator("#workspace .label-error[role=alert]")
    expect(alert).to_contain_text("not saved")
    # The labels stay as typed (the draft), for when access comes back.
    expect(page.locator('.record[data-record="0"] .picked').nth(0)).to_have_text(
        "Crash > CUDA Error > Out of Memory"
    )
