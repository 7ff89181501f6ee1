"""The calibration form and the gold-set editor pick categories with the decision form's
type-ahead picker (static/js/picker.js), keyboard first, instead of long plain dropdowns
(issue #17): type to filter, Enter picks, Tab goes on to the next dimension; the selects
stay the posted fields, out of the tab order."""

import pytest
from playwright.sync_api import expect

from analysis import calibration as service
from annotate.models import GoldItem, Membership
from tests.builders import CPU_MEMORY, GPU_MEMORY, HANG, OOM
from tests.factories import IssueFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")


def focused(page) -> str:
    return page.evaluate("() => document.activeElement.id")


def pick_by_keyboard(page, dimension, typed):
    """In the picker of `dimension` (focused): type, check the list narrowed, take the
    highlighted match with Enter."""
    assert focused(page) == f"r0-{dimension}-search"
    options = page.locator(f"#r0-{dimension}-options li")
    total = options.count()
    page.keyboard.type(typed)
    shown = page.locator(f"#r0-{dimension}-options li:not([hidden])")
    expect(shown.first).to_be_visible()
    assert 0 < shown.count() < total
    page.keyboard.press("Enter")


def wire(symptom, root):
    return [[{"dimension": "symptom", "category": symptom},
             {"dimension": "root_cause", "category": root},
             {"dimension": "stage", "category": "Inference"}]]  # fmt: skip


def test_the_gold_set_editor_picks_by_keyboard(page, live_server, login, project, cast):
    item = ItemFactory(project=project, position=1, issue=IssueFactory(title="Gold hang"))
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/calibration/gold/")
    # no plain dropdown left to tab into: each select is behind its combobox
    for key in ("symptom", "root_cause", "stage"):
        expect(page.locator(f"#r0-{key}-search")).to_have_attribute("role", "combobox")
        assert page.locator(f"#r0-{key}").get_attribute("tabindex") == "-1"
    page.focus("#gold-item")
    page.keyboard.type(str(item.pk))
    page.keyboard.press("Tab")
    pick_by_keyboard(page, "symptom", "generation stuck")
    page.keyboard.press("Tab")
    pick_by_keyboard(page, "root_cause", "cpu memory")
    page.keyboard.press("Tab")
    pick_by_keyboard(page, "stage", "inference")
    expect(page.locator("#r0-root_cause-search")).to_have_value(CPU_MEMORY)
    page.keyboard.press("Tab")
    assert focused(page) == "rationale"
    page.keyboard.type("The process waits on host memory forever.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    row = page.locator(f"#gold-{item.pk}")
    expect(row).to_contain_text(HANG)
    expect(row).to_contain_text(CPU_MEMORY)
    gold = GoldItem.objects.get(item=item)
    paths = sorted(label.category.path for label in gold.labels.all())
    assert paths == sorted([HANG, CPU_MEMORY, "Inference"])


def test_a_coder_answers_the_gold_set_by_keyboard(page, live_server, login, project, cast):
    items = [
        ItemFactory(project=project, position=n, issue=IssueFactory(title=f"Gold {n}"))
        for n in (1, 2)
    ]
    answers = [(OOM, GPU_MEMORY, "out of memory", "gpu memory"),
               (HANG, CPU_MEMORY, "generation stuck", "cpu memory")]  # fmt: skip
    for item, (symptom, root, _, _) in zip(items, answers, strict=True):
        service.set_gold_item(project=project, item=item, records=wire(symptom, root),
                              rationale="r", actor=cast["lead"])  # fmt: skip
    member = Membership.objects.get(project=project, user=cast["annotator_a"])
    service.put_in_calibration(project=project, membership=member, actor=cast["lead"])

    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    for _, _, symptom_typed, root_typed in answers:
        expect(page.locator("#calibration-form")).to_be_visible()
        page.focus("#r0-symptom-search")
        pick_by_keyboard(page, "symptom", symptom_typed)
        # Escape closes a list and puts back what was picked
        page.keyboard.press("Tab")
        page.keyboard.type("memory")
        expect(page.locator("#r0-root_cause-options")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#r0-root_cause-options")).to_be_hidden()
        expect(page.locator("#r0-root_cause-search")).to_have_value("")
        pick_by_keyboard(page, "root_cause", root_typed)
        page.keyboard.press("Tab")
        pick_by_keyboard(page, "stage", "inference")
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
    expect(page.locator("#calibration-verdict")).to_have_text("Passed")
    expect(page.locator("#calibration-kappa")).to_have_text("1.00")
