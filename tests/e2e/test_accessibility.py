"""Every main page of the demo passes axe-core's WCAG 2.1 A and AA rules (issue #15,
defect 11): links in text are told apart by more than colour, text has its contrast,
and every region that scrolls can be reached by keyboard."""

from pathlib import Path

from annotate.demo import DEMO_SLUG, seed_demo
from annotate.models import Item

PROJECT = f"/projects/{DEMO_SLUG}/"
MAIN_PAGES = [
    "/",
    PROJECT,
    PROJECT + "codebook/",
    PROJECT + "label/",
    PROJECT + "label/mine/",
    PROJECT + "conflicts/",
    PROJECT + "conflicts/{conflict}/",
    PROJECT + "agreement/",
    PROJECT + "distributions/",
    PROJECT + "reporting/",
    PROJECT + "dataset/",
    PROJECT + "settings/",
    PROJECT + "mining/repositories/",
    PROJECT + "mining/jobs/",
    PROJECT + "items/",
    PROJECT + "items/?q=memory&state=conflict",
    PROJECT + "items/{conflict}/",
]

# The README's screenshots (docs/screenshots/), taken here so that they show the pages as
# they are: the path of each, and the file it is saved to.
SCREENSHOTS = {
    "/": "projects.png",
    PROJECT: "project.png",
    PROJECT + "label/": "labeling.png",
    PROJECT + "conflicts/": "conflicts.png",
    PROJECT + "conflicts/{conflict}/": "conflict.png",
    PROJECT + "agreement/": "agreement.png",
    PROJECT + "distributions/": "distributions.png",
    PROJECT + "codebook/": "codebook.png",
}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_main_pages_have_no_wcag_violation(page, live_server, login, db, axe_violations):
    seed_demo(password="pw-for-tests-123", per_repository=6)
    conflict = Item.objects.filter(project__slug=DEMO_SLUG, state=Item.State.CONFLICT).first()
    assert conflict is not None, "the demo has items in conflict"
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "owner")
    found = {}
    for path in MAIN_PAGES:
        page.goto(live_server.url + path.format(conflict=conflict.pk))
        page.wait_for_load_state("networkidle")  # the parts htmx fetches after the page
        if path.endswith("label/"):
            # The labeling page as an annotator meets it: an issue with a code block.
            assert page.locator(".issue-body pre").count(), "the item shows a code block"
        if path in SCREENSHOTS:
            page.screenshot(path=SCREENSHOT_DIR / SCREENSHOTS[path])
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert sorted(p.name for p in SCREENSHOT_DIR.glob("*.png")) == sorted(SCREENSHOTS.values())
    assert not found, "\n".join(f"{path}\n  " + "\n  ".join(lines) for path, lines in found.items())
