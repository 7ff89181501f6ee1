"""Issue #15, defect 8: keys typed right after Ctrl+Enter, while htmx fetches and swaps in
the next item, take effect on that next item instead of being lost."""

import threading

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from annotate.models import Annotation
from tests.e2e.test_labeling import label_record, wait_for_item
from tests.factories import IssueFactory, ItemFactory


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def test_keys_typed_during_the_swap_reach_the_next_item(page, live_server, login, project):
    first = ItemFactory(project=project, issue=IssueFactory(title="OOM at start"))
    second = ItemFactory(project=project, issue=IssueFactory(title="Hangs forever"))
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    label_record(page, "out of memory", "gpu memory", "inference")

    # No wait between the submit and the next keys: search "hang" and take it with Enter,
    # then the first root cause by its number, as a fast annotator would.
    page.keyboard.press("Control+Enter")
    page.keyboard.type("hang")
    page.keyboard.press("Enter")
    page.keyboard.press("1")
    wait_for_item(page, second)

    picked = page.locator('.record[data-record="0"] .picked')
    expect(picked.nth(0)).to_have_text("Hang")
    first_root_cause = page.locator(
        '.picker[data-dimension="root_cause"] .picker-options li'
    ).first.get_attribute("data-path")
    expect(picked.nth(1)).to_have_text(first_root_cause)
    expect(picked.nth(2)).to_have_text("nothing picked")
    # The stage picker has the focus, so the next key goes on where the typing stopped.
    assert page.evaluate("() => document.activeElement.id") == "r0-stage-search"
    # The first item was submitted as it stood before the keys.
    labels = Annotation.objects.get(item=first).labels.order_by("dimension__order")
    assert [label.category.path.split(" > ")[-1] for label in labels] == [
        "Out of Memory",
        "GPU Memory Insufficiency",
        "Inference",
    ]


def test_keys_typed_during_the_swap_wait_for_the_next_item_when_the_counts_answer_first(
    page, live_server, login, project, monkeypatch
):
    """The progress line is a part of its own (loaded after each item): its answer arriving
    while the submit is still on its way must not hand the held keys to the item that is
    going away."""
    from annotate.labeling import views

    first = ItemFactory(project=project, issue=IssueFactory(title="OOM at start"))
    second = ItemFactory(project=project, issue=IssueFactory(title="Hangs forever"))
    counts_may_answer, submit_may_answer = threading.Event(), threading.Event()
    progress, submit = views.annotator_progress, views.submit_annotation

    def slow_progress(**kwargs):
        counts_may_answer.wait(10)
        return progress(**kwargs)

    def slow_submit(**kwargs):
        submit_may_answer.wait(10)
        return submit(**kwargs)

    monkeypatch.setattr(views, "annotator_progress", slow_progress)
    monkeypatch.setattr(views, "submit_annotation", slow_submit)
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    wait_for_item(page, first)
    label_record(page, "out of memory", "gpu memory", "inference")
    page.keyboard.press("Control+Enter")
    page.keyboard.type("hang")
    page.keyboard.press("Enter")
    page.keyboard.press("1")
    # The first item's counts answer while its submission is still on its way.
    counts_may_answer.set()
    expect(page.locator("#label-progress")).to_contain_text("left for you")
    submit_may_answer.set()
    wait_for_item(page, second)

    picked = page.locator('.record[data-record="0"] .picked')
    expect(picked.nth(0)).to_have_text("Hang")
    expect(picked.nth(2)).to_have_text("nothing picked")
    assert page.evaluate("() => document.activeElement.id") == "r0-stage-search"
