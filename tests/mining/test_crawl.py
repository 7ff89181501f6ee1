import pytest
from github import Auth, Github

from annotate.models import Item
from mining import jobs
from mining.models import Issue, MiningJob

from .helpers import assert_same_data, crawl, formula


@pytest.fixture
def repository(project, emulator):
    emulator.add_repository("QwenLM", "Qwen2.5", issues=250, comments=430)
    return jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5", group="Qwen")


def test_full_crawl_stores_exactly_the_emulators_data_at_the_formula_cost(
    project, repository, emulator, token
):
    job = crawl(project, [repository], emulator)

    assert job.status == MiningJob.Status.DONE
    assert_same_data(emulator, repository)
    expected = formula(emulator, "QwenLM", "Qwen2.5")  # 1 + 3 + 5
    assert expected <= emulator.requests <= expected + 2
    assert job.requests == emulator.requests
    assert job.issues >= 250 and job.comments >= 430
    assert Issue.objects.filter(repository=repository, is_pull_request=True).count() == 250 // 7
    repository.refresh_from_db()
    assert repository.issues_watermark == max(
        i["updated_at"] for i in emulator.repo("QwenLM", "Qwen2.5").issues.values()
    )
    # Every list request followed the Link header: the first pages carry no cursor, the
    # rest exactly the emulator's cursors; no request ever asked for a page number.
    assert not any("page=" in path.replace("per_page=", "") for path, _ in emulator.log)
    assert not any("since=&" in path or "since=1970" in path for path, _ in emulator.log)


def test_unchanged_resync_spends_no_quota(project, repository, emulator, token):
    crawl(project, [repository], emulator)
    emulator.reset_counters()

    job = crawl(project, [repository], emulator)

    assert job.status == MiningJob.Status.DONE
    assert emulator.quota_spent == 0
    assert [status for _, status in emulator.log] == [304, 304]
    assert job.requests == 2 and job.pages == 0


def test_resync_after_edits_fetches_only_the_changes(project, repository, emulator, token):
    crawl(project, [repository], emulator)
    emulator.edit_issue("QwenLM", "Qwen2.5", 3, title="New title")
    emulator.edit_issue("QwenLM", "Qwen2.5", 4, state="open")
    emulator.add_comment("QwenLM", "Qwen2.5", 5, "A late comment.")
    emulator.reset_counters()

    job = crawl(project, [repository], emulator)

    assert_same_data(emulator, repository)
    # Per list: one page of changes, then one request that stores the new ETag.
    assert emulator.quota_spent == 4
    assert job.issues <= 6 and job.comments <= 3
    emulator.reset_counters()
    crawl(project, [repository], emulator)
    assert emulator.quota_spent == 0


def test_edited_issue_flags_its_item_and_keeps_what_annotators_saw(
    project, repository, emulator, token
):
    crawl(project, [repository], emulator)
    issue = Issue.objects.get(repository=repository, number=3)
    item = Item.objects.create(
        project=project, issue=issue, snapshot_title=issue.title, snapshot_body=issue.body
    )
    untouched = Item.objects.create(
        project=project,
        issue=Issue.objects.get(repository=repository, number=8),
        snapshot_title=Issue.objects.get(repository=repository, number=8).title,
        snapshot_body=Issue.objects.get(repository=repository, number=8).body,
    )
    seen_title = issue.title
    emulator.edit_issue("QwenLM", "Qwen2.5", 3, body="Edited after labeling began.")
    emulator.edit_issue("QwenLM", "Qwen2.5", 8, state="open")  # not a text change

    crawl(project, [repository], emulator)

    item.refresh_from_db()
    untouched.refresh_from_db()
    assert item.edited_since_labeling is True
    assert item.snapshot_title == seen_title
    assert item.snapshot_body != "Edited after labeling began."
    assert item.issue.body == "Edited after labeling began."
    assert Issue.objects.get(pk=issue.pk).body == "Edited after labeling began."
    assert untouched.edited_since_labeling is False


def test_crawl_of_several_repositories_keeps_them_apart(project, emulator, token):
    emulator.add_repository("meta-llama", "llama3", issues=120, comments=90)
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=40, comments=0)
    repos = [
        jobs.add_repository(project=project, full_name="meta-llama/llama3"),
        jobs.add_repository(project=project, full_name="deepseek-ai/DeepSeek-V3"),
    ]

    job = crawl(project, repos, emulator)

    assert job.status == MiningJob.Status.DONE
    for repo in repos:
        assert_same_data(emulator, repo)
    # DeepSeek-V3: its repository, 1 page, 1 empty.
    expected = formula(emulator, "meta-llama", "llama3") + 2
    assert emulator.requests <= expected + 2 * 2 + 1


def test_cancelled_job_stops_after_the_current_page(project, repository, emulator, token):
    job = jobs.start_mining_job(
        project=project, repositories=[repository], api_url=emulator.url, dispatch=False
    )
    pages = []

    def cancel_after_first_page(**counts):
        pages.append(counts)
        jobs.cancel_mining_job(job=job)

    jobs.run_job_sync(job=job, on_page=cancel_after_first_page)

    job.refresh_from_db()
    assert job.status == MiningJob.Status.CANCELLED
    assert len(pages) == 1 and job.pages == 1
    assert Issue.objects.filter(repository=repository).count() == 100
    repository.refresh_from_db()
    stored = Issue.objects.filter(repository=repository)
    assert repository.issues_watermark == max(i.updated_at for i in stored)
    # Restarted, it resumes from the watermark and completes the data.
    jobs.restart_mining_job(job=job)  # dispatches on commit; run it here instead
    jobs.run_job_sync(job=job)
    job.refresh_from_db()
    assert job.status == MiningJob.Status.DONE
    assert_same_data(emulator, repository)


def test_a_lazy_attribute_leak_shows_in_the_request_count(repository, emulator, token):
    """Reading attributes that PyGithub's listed Issue objects lack makes each complete
    itself with a GET: the emulator's counter sees it, so the crawl tests would fail."""
    github = Github(auth=Auth.Token(token), base_url=emulator.url, per_page=100, lazy=True)
    issues = github.get_repo("QwenLM/Qwen2.5").get_issues(
        state="all", sort="updated", direction="asc"
    )
    for issue in list(issues)[:5]:
        assert issue.number
    listed = emulator.requests
    for issue in list(issues)[:5]:
        issue.closed_by  # noqa: B018 - the leak under test
    github.close()
    assert emulator.requests == listed + 5  # one GET per issue read
