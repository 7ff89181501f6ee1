"""A project from the browser to RQ4 (issue #15): an owner creates one project with an empty
codebook and one with the study's, imports a small olf dataset into each on the upload page
(a real Celery worker runs the jobs), finds the imported repositories with their groups on
the Repositories page, moves one to another group from the keyboard, and sees RQ4 follow."""

from pathlib import Path

import pytest
import redis
from django.conf import settings
from playwright.sync_api import expect

from annotate.models import Category, ImportJob, Item
from mining.models import ProjectRepository
from tests.annotate.test_import_worker import _start_worker

pytestmark = pytest.mark.worker
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf_groups"
FILES = [str(path) for path in sorted(FIXTURES.rglob("*.json"))]


def create_project(page, base, name, slug, codebook):
    page.goto(f"{base}/projects/new/")
    page.fill("#id_name", name)
    page.fill("#id_slug", slug)
    page.check(f"input[name=codebook][value={codebook}]")
    page.click("button[type=submit]:has-text('Create project')")
    page.wait_for_url(f"{base}/projects/{slug}/")
    expect(page.locator("#getting-started")).to_be_visible()


def import_files(page, base, slug, add_categories=False):
    page.goto(f"{base}/projects/{slug}/")
    page.click("#getting-started a:has-text('Import a labeled dataset')")
    page.wait_for_url(f"{base}/projects/{slug}/import/")
    page.set_input_files("input[name=files]", FILES)
    if add_categories:
        page.check("input[name=add_categories]")
    page.click("button[type=submit]:has-text('Import')")
    page.wait_for_url(f"**/projects/{slug}/imports/*/")
    page.wait_for_selector("#import-result", timeout=60_000)  # htmx polls the job page
    expect(page.locator("#import-result")).to_have_text("Imported")
    expect(page.locator("#import-job")).to_contain_text("11 records on 11 issues")
    expect(page.locator("#import-job")).to_contain_text("groups by owner")


def rq4_totals(page, base, slug) -> dict[str, str]:
    page.goto(f"{base}/projects/{slug}/distributions/?view=rq4")
    rows = page.locator("#crosstab tbody tr")
    expect(rows.first).to_be_visible()
    return {
        row.locator("th").inner_text(): row.locator("td").last.inner_text() for row in rows.all()
    }


def test_owner_creates_projects_imports_and_regroups_a_repository(
    page, live_server, login, cast, tmp_path, import_upload_dir, axe_violations
):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # this suite's own Redis database
    cast["owner"].is_staff = True  # staff create projects (PROJECT_CREATION=staff)
    cast["owner"].save(update_fields=["is_staff"])
    base = live_server.url
    login(page, "owner")
    create_project(page, base, "Own taxonomy", "own-taxonomy", "empty")
    assert axe_violations(page) == []
    assert not Category.objects.filter(dimension__project__slug="own-taxonomy").exists()
    create_project(page, base, "Replication", "replication", "study")
    assert Category.objects.filter(dimension__project__slug="replication").count() > 50

    worker = _start_worker(tmp_path / "worker.log", import_upload_dir)
    try:
        # The empty codebook takes the file's categories only when asked to add them.
        import_files(page, base, "own-taxonomy", add_categories=True)
        import_files(page, base, "replication")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert ImportJob.objects.filter(status="succeeded").count() == 2
    assert Item.objects.filter(project__slug="replication", state="settled").count() == 11
    assert Category.objects.filter(dimension__project__slug="own-taxonomy").exists()

    before = rq4_totals(page, base, "replication")
    assert before == {"QwenLM": "4", "deepseek-ai": "4", "meta-llama": "3"}

    page.click("nav.project-nav a:has-text('Mining')")
    page.wait_for_url(f"{base}/projects/replication/mining/repositories/")
    expect(page.locator("#repository-groups")).to_contain_text("deepseek-ai")
    rows = page.locator("#repositories tbody tr.repository-row")
    expect(rows).to_have_count(6)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    field = page.get_by_label("Group of meta-llama/codellama")
    expect(field).to_have_value("meta-llama")
    field.fill("Code models")
    field.press("Enter")  # htmx posts the row's form and swaps the row
    row = page.locator("tr[data-repository='meta-llama/codellama']")
    expect(row.get_by_role("status")).to_have_text("Saved")
    expect(page.get_by_label("Group of meta-llama/codellama")).to_be_focused()
    view = ProjectRepository.objects.get(project__slug="replication", repository__name="codellama")
    assert view.group == "Code models"

    field = page.get_by_label("Group of QwenLM/Qwen", exact=True)
    field.fill("x" * 100 + "y")  # maxlength stops the 101st character in the browser
    assert len(field.input_value()) == 100

    after = rq4_totals(page, base, "replication")
    assert after == {"Code models": "1", "QwenLM": "4", "deepseek-ai": "4", "meta-llama": "2"}
    assert page.dialogs == []
