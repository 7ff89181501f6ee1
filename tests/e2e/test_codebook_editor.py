"""Issue #15, defect 5: at 1440 px the conflict queue and the codebook editor fit the
window (long category paths made their selects push the page sideways), and the codebook
editor's "Under" select offers only the chosen dimension's categories."""

from playwright.sync_api import expect

from annotate.demo import DEMO_SLUG, seed_demo
from annotate.models import Category

SCROLL_WIDTH = (
    "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
)


def test_conflict_queue_and_codebook_editor_fit_1440_px(page, live_server, login, db):
    seed_demo(password="pw-for-tests-123", per_repository=6)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "lead")
    for path in ("conflicts/", "codebook/edit/"):
        page.goto(f"{live_server.url}/projects/{DEMO_SLUG}/{path}")
        page.wait_for_load_state("networkidle")
        scroll_width, client_width = page.evaluate(SCROLL_WIDTH)
        assert scroll_width <= client_width, f"{path} scrolls sideways: {scroll_width} px"


def _offered(page) -> list[str]:
    """The values of the Under select's options a person can choose, top level first."""
    return page.locator("#add-parent option").evaluate_all(
        "options => options.filter(o => !o.hidden && !o.disabled).map(o => o.value)"
    )


def _categories(project, dimension: str) -> list[str]:
    live = Category.objects.filter(dimension__project=project, retired=False)
    return sorted(
        str(pk) for pk in live.filter(dimension__key=dimension).values_list("pk", flat=True)
    )


def test_under_offers_only_the_chosen_dimensions_categories(page, live_server, login, project):
    login(page, "lead")
    page.goto(f"{live_server.url}/projects/{project.slug}/codebook/edit/")
    dimension = page.locator("#add-dimension")
    for key in ("symptom", "stage", "root_cause", "symptom"):
        dimension.select_option(key)
        offered = _offered(page)
        assert offered[0] == "", "the top level comes first"
        assert sorted(offered[1:]) == _categories(project, key), key

    # The form still adds under the chosen parent.
    dimension.select_option("stage")
    parent = Category.objects.get(pk=_offered(page)[1])
    page.select_option("#add-parent", str(parent.pk))
    page.fill("#add-name", "Quantisation")
    page.locator("#add-name").press("Enter")
    expect(page.locator(".messages")).to_be_visible()
    added = Category.objects.get(dimension__project=project, name="Quantisation")
    assert (added.dimension.key, added.parent_id) == ("stage", parent.pk)
