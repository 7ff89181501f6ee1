"""The item browser in Chromium (issue #15): search, filter, the filters in the address
bar so a reload keeps them, an item opened by keyboard alone, and no axe-core violation
on either page."""

import re

from playwright.sync_api import expect

from tests.builders import label_both
from tests.factories import CommentFactory, IssueFactory, ItemFactory


def _item(project, title, body="", comment=None):
    issue = IssueFactory(title=title, body=body)
    if comment:
        CommentFactory(issue=issue, body=comment)
    return ItemFactory(project=project, issue=issue)


def test_search_filter_reload_and_open_an_item_by_keyboard(
    page, live_server, login, project, cast, axe_violations
):
    titled = _item(project, "Segfault while loading the checkpoint", "It stops.")
    commented = _item(project, "Loader stops", "Nothing.", comment="A segfault in the kernel.")
    _item(project, "Tokenizer is slow", "Slow.")
    assert label_both(titled, cast) == "settled"
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/")
    page.get_by_role("link", name="Items", exact=True).click()
    page.wait_for_url(f"**/projects/{project.slug}/items/")
    expect(page.locator("#item-count")).to_have_text("3")

    page.keyboard.press("/")  # the search box, by keyboard
    page.keyboard.type("segfaults")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=segfaults"))
    expect(page.locator("#item-count")).to_have_text("2")
    rows = page.locator("tr.item-row")
    # The title match ranks above the comment match.
    assert rows.nth(0).get_attribute("data-item") == str(titled.pk)
    assert rows.nth(1).get_attribute("data-item") == str(commented.pk)

    page.select_option("#f-state", "settled")
    expect(page).to_have_url(re.compile(r"[?&]state=settled"))
    expect(page.locator("#item-count")).to_have_text("1")
    page.reload()
    assert page.locator("#f-state").input_value() == "settled"
    assert page.locator("#f-q").input_value() == "segfaults"
    expect(page.locator("#item-count")).to_have_text("1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    assert axe_violations(page) == []

    # Tab from the search box to the first item's link, then Enter opens it.
    page.locator("#f-q").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('item-link')"):
            break
    else:
        raise AssertionError("no item link is reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{project.slug}/items/{titled.pk}/")
    expect(page.locator("#item-title")).to_have_text("Segfault while loading the checkpoint")
    assert "Settled by agreement" in page.locator("#history").inner_text()
    assert page.locator("#labels .annotation").count() == 2
    assert axe_violations(page) == []

    page.go_back()
    expect(page.locator("#item-count")).to_have_text("1")


def test_a_bad_filter_answers_inside_the_page_with_links(page, live_server, login, project):
    _item(project, "Anything")
    login(page, "lead")
    response = page.goto(f"{live_server.url}/projects/{project.slug}/items/?state=bogus")
    assert response.status == 400
    expect(page.locator("#browse-error [role=alert]")).to_contain_text("'bogus' is not a state")
    page.locator("#browse-error a", has_text="settled").click()
    expect(page).to_have_url(re.compile(r"[?&]state=settled"))
    expect(page.locator("#item-count")).to_have_text("0")


def test_back_shows_the_filters_of_the_list_it_shows(page, live_server, login, project, cast):
    """The back button restores the list and the filter form together: one history entry
    per search (Enter fires "change" and "submit"), and the fields as in the address."""
    _item(project, "Segfault while loading the checkpoint", "It stops.")
    _item(project, "Loader stops", "A segfault.")
    _item(project, "Tokenizer is slow", "Slow.")
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/items/")
    expect(page.locator("#item-count")).to_have_text("3")
    page.locator("#f-q").fill("segfault")
    page.keyboard.press("Enter")
    expect(page.locator("#item-count")).to_have_text("2")
    page.select_option("#f-state", "open")
    expect(page).to_have_url(re.compile(r"[?&]state=open"))
    page.locator("#f-q").fill("tokenizer")
    page.keyboard.press("Enter")
    expect(page.locator("#item-count")).to_have_text("1")

    page.go_back()
    expect(page).to_have_url(re.compile(r"q=segfault&state=open"))
    expect(page.locator("#item-count")).to_have_text("2")
    assert page.locator("#f-q").input_value() == "segfault"
    assert page.locator("#f-state").input_value() == "open"
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=segfault&state=&"))
    assert page.locator("#f-state").input_value() == ""
    assert page.locator("#f-q").input_value() == "segfault"
    page.go_back()
    expect(page.locator("#item-count")).to_have_text("3")
    assert page.locator("#f-q").input_value() == ""
