"""Calibration of a new coder, in the browser (issue #17): the lead marks a gold item and
sends a new annotator through calibration; the annotator is sent from the queue to the gold
set, fails the first try, reads the feedback (kappa, the gold labels and the rationale),
passes the second try and reaches the main queue."""

import pytest
from playwright.sync_api import expect

from analysis import calibration as service
from annotate.models import Membership
from tests.builders import CPU_MEMORY, DEVICE, GPU_MEMORY, HANG, OOM
from tests.factories import IssueFactory, ItemFactory

from .test_labeling import wait_for_item

pytestmark = pytest.mark.usefixtures("fresh_cache")

GOLD = [(OOM, GPU_MEMORY), (HANG, CPU_MEMORY)]
WRONG = [(DEVICE, CPU_MEMORY), (OOM, GPU_MEMORY)]


def wire(symptom, root):
    return [[{"dimension": "symptom", "category": symptom},
             {"dimension": "root_cause", "category": root},
             {"dimension": "stage", "category": "Inference"}]]  # fmt: skip


def answer(page, symptom, root):
    page.select_option("#r0-symptom", label=symptom)
    page.select_option("#r0-root_cause", label=root)
    page.select_option("#r0-stage", label="Inference")
    page.click("#calibration-form button[type=submit]")


def test_a_new_coder_fails_once_reads_the_feedback_passes_and_reaches_the_queue(
    page, live_server, login, project, cast
):
    first = ItemFactory(project=project, position=1, issue=IssueFactory(title="Gold one"))
    second = ItemFactory(project=project, position=2, issue=IssueFactory(title="Gold two"))
    main = ItemFactory(project=project, position=3, issue=IssueFactory(title="Main item"))
    service.set_gold_item(project=project, item=first, records=wire(*GOLD[0]),
                          rationale="The allocator ran out of GPU memory.",
                          actor=cast["lead"])  # fmt: skip

    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/calibration/gold/")
    page.fill("#gold-item", str(second.pk))
    page.select_option("#r0-symptom", label=GOLD[1][0])
    page.select_option("#r0-root_cause", label=GOLD[1][1])
    page.select_option("#r0-stage", label="Inference")
    page.fill("#rationale", "The process waits on host memory forever.")
    page.click("#gold-form button[type=submit]")
    expect(page.locator(f"#gold-{second.pk}")).to_contain_text("waits on host memory")
    page.fill("#tries", "2")
    page.click("#calibration-settings button[type=submit]")
    page.locator(f"#coder-{cast['annotator_a'].pk} button[value=calibrate]").click()
    expect(page.locator(f"#coder-{cast['annotator_a'].pk}")).to_contain_text("in calibration")

    page.context.clear_cookies()
    login(page, "annotator_a")
    page.goto(f"{live_server.url}/projects/{project.slug}/label/")
    expect(page.locator("#calibration-status")).to_contain_text("Try 1 of 2")
    expect(page.locator("body")).not_to_contain_text("allocator ran out")  # blind
    for symptom, root in WRONG:
        answer(page, symptom, root)
    expect(page.locator("#calibration-verdict")).to_have_text("Not passed")
    gold = page.locator("#calibration-gold")
    expect(gold).to_contain_text("The allocator ran out of GPU memory.")
    expect(gold).to_contain_text(GOLD[1][0])
    page.click("#try-again")
    expect(page.locator("#calibration-status")).to_contain_text("Try 2 of 2")
    for symptom, root in GOLD:
        answer(page, symptom, root)
    expect(page.locator("#calibration-verdict")).to_have_text("Passed")
    expect(page.locator("#calibration-kappa")).to_have_text("1.00")
    page.click("#to-queue")
    wait_for_item(page, main)
    membership = Membership.objects.get(project=project, user=cast["annotator_a"])
    assert membership.calibration == Membership.Calibration.PASSED
