import io
import threading

import pytest
from django.core.management import CommandError, call_command

from annotate.demo import load_demo_issues
from annotate.models import Item
from mining import crawl as mining_crawl
from mining import jobs
from mining.access import project_repositories
from mining.demo import demo_truth
from mining.models import DEMO_SOURCE, Comment, Issue, MiningJob, ProjectRepository, source_of

from .helpers import assert_same_data, crawl


@pytest.fixture
def repos(project, emulator):
    emulator.add_repository("QwenLM", "Qwen", issues=40, comments=120)
    emulator.add_repository("QwenLM", "Qwen2.5", issues=10, comments=5)
    return [
        jobs.add_repository(project=project, full_name="QwenLM/Qwen"),
        jobs.add_repository(project=project, full_name="QwenLM/Qwen2.5"),
    ]


def _single(project, emulator, links):
    job = jobs.start_mining_job(
        project=project,
        links=links,
        kind=MiningJob.Kind.SINGLE,
        api_url=emulator.url,
        dispatch=False,
    )
    return jobs.run_job_sync(job=job)


def test_single_issues_are_mined_with_their_comments(project, repos, emulator, token):
    source = emulator.repo("QwenLM", "Qwen")
    busy = max(source.issues, key=lambda n: source.issues[n]["comments"])
    links = [f"https://github.com/QwenLM/Qwen/issues/{busy}", "QwenLM/Qwen#2"]

    job = _single(project, emulator, links)

    assert job.status == MiningJob.Status.DONE
    issue = Issue.objects.get(repository=repos[0], number=busy)
    assert issue.fetched and issue.title == source.issues[busy]["title"]
    expected = {c["id"] for c in source.comments.values() if c["issue_number"] == busy}
    assert set(issue.comments.values_list("github_id", flat=True)) == expected
    with_comments = sum(1 for n in (busy, 2) if source.issues[n]["comments"])
    assert emulator.requests == 2 + with_comments


def test_single_issue_links_record_deleted_and_transferred_issues(project, repos, emulator, token):
    emulator.delete_issue("QwenLM", "Qwen", 3)
    new_number = emulator.transfer_issue("QwenLM", "Qwen", 4, "QwenLM", "Qwen2.5")

    job = _single(project, emulator, ["QwenLM/Qwen#3", "QwenLM/Qwen#4", "QwenLM/Qwen#999"])

    assert job.status == MiningJob.Status.DONE
    assert Issue.objects.get(repository=repos[0], number=3).gone == Issue.Gone.DELETED
    moved = Issue.objects.get(repository=repos[0], number=4)
    assert moved.gone == Issue.Gone.MOVED
    assert moved.moved_to == f"https://github.com/QwenLM/Qwen2.5/issues/{new_number}"
    assert Issue.objects.get(repository=repos[0], number=999).gone == Issue.Gone.NOT_FOUND
    assert Issue.objects.get(repository=repos[1], number=new_number).fetched


def _busiest(emulator, owner, name):
    source = emulator.repo(owner, name)
    return max(source.issues, key=lambda n: source.issues[n]["comments"])


def _comment_ids(emulator, owner, name, number):
    repo = emulator.repo(owner, name)
    return {c["id"] for c in repo.comments.values() if c["issue_number"] == number}


def test_a_transferred_issue_is_mined_with_its_comments_in_its_new_home(
    project, repos, emulator, token
):
    number = _busiest(emulator, "QwenLM", "Qwen")
    new_number = emulator.transfer_issue("QwenLM", "Qwen", number, "QwenLM", "Qwen2.5")
    expected = _comment_ids(emulator, "QwenLM", "Qwen2.5", new_number)
    assert expected  # the issue has comments to lose

    job = _single(project, emulator, [f"QwenLM/Qwen#{number}"])

    assert job.status == MiningJob.Status.DONE
    moved = Issue.objects.get(repository=repos[0], number=number)
    assert moved.gone == Issue.Gone.MOVED and not moved.comments.exists()
    issue = Issue.objects.get(repository=repos[1], number=new_number)
    assert issue.fetched and issue.gone == ""
    assert set(issue.comments.values_list("github_id", flat=True)) == expected
    assert job.comments == len(expected)
    # The 301, the issue where it redirects, one page of comments.
    assert emulator.requests == 3


def test_an_issue_transferred_between_its_get_and_its_comments_keeps_them(
    project, repos, emulator, token
):
    number = _busiest(emulator, "QwenLM", "Qwen")
    # The comments request waits a moment before it is answered: the issue moves meanwhile,
    # so GitHub redirects it to the comments of the issue's new home.
    slow = emulator.inject("slow", path_contains=f"/Qwen/issues/{number}/comments", seconds=1)
    moved_to = []

    def transfer_when_asked():
        while slow.times:
            threading.Event().wait(0.01)
        moved_to.append(emulator.transfer_issue("QwenLM", "Qwen", number, "QwenLM", "Qwen2.5"))

    mover = threading.Thread(target=transfer_when_asked)
    mover.start()
    job = _single(project, emulator, [f"QwenLM/Qwen#{number}"])
    mover.join()

    assert job.status == MiningJob.Status.DONE
    (new_number,) = moved_to
    assert Issue.objects.get(repository=repos[0], number=number).gone == Issue.Gone.MOVED
    issue = Issue.objects.get(repository=repos[1], number=new_number)
    assert issue.fetched
    expected = _comment_ids(emulator, "QwenLM", "Qwen2.5", new_number)
    assert set(issue.comments.values_list("github_id", flat=True)) == expected
    # No comment was filed under a placeholder issue, in either repository.
    assert not Comment.objects.filter(issue__fetched=False).exists()
    assert not Issue.objects.filter(repository=repos[1], fetched=False).exists()
    assert "moved (301)" in "\n".join(job.log)


def test_reconcile_records_gone_issues_and_keeps_their_items(project, repos, emulator, token):
    crawl(project, repos, emulator)
    deleted, moved = Issue.objects.get(repository=repos[0], number=5), None
    item = Item.objects.create(project=project, issue=deleted, snapshot_title=deleted.title)
    emulator.delete_issue("QwenLM", "Qwen", 5)
    new_number = emulator.transfer_issue("QwenLM", "Qwen", 6, "QwenLM", "Qwen2.5")
    emulator.reset_counters()

    job = jobs.start_mining_job(
        project=project,
        repositories=[repos[0]],
        kind=MiningJob.Kind.RECONCILE,
        api_url=emulator.url,
        dispatch=False,
    )
    job = jobs.run_job_sync(job=job)

    assert job.status == MiningJob.Status.DONE
    # The full list (38 issues), one GET per missing issue, and the 301's redirect.
    assert emulator.requests == 1 + 2 + 1
    deleted.refresh_from_db()
    assert deleted.gone == Issue.Gone.DELETED
    assert Item.objects.filter(pk=item.pk).exists()
    assert deleted.comments.exists() or deleted.comment_count == 0  # nothing deleted
    moved = Issue.objects.get(repository=repos[0], number=6)
    assert moved.gone == Issue.Gone.MOVED and moved.moved_to.endswith(f"/issues/{new_number}")
    # The next crawl of the target stores the transferred issue under its new number.
    crawl(project, [repos[1]], emulator)
    assert_same_data(emulator, repos[1])
    assert (
        Comment.objects.filter(issue__repository=repos[1], issue__number=new_number).count()
        == (emulator.repo("QwenLM", "Qwen2.5").issues[new_number]["comments"])
    )


def test_mine_command_mines_into_a_project_and_fails_clearly(project, emulator, token, cast):
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=30, comments=20)
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "mine",
        "deepseek-ai/DeepSeek-V3",
        "--project",
        project.slug,
        "--api-url",
        emulator.url,
        stdout=out,
        stderr=err,
    )

    assert "Mined 1 repositories" in out.getvalue() and "30 issues" in out.getvalue()
    repo = project_repositories(project).get(name="DeepSeek-V3")
    assert repo.source == source_of(emulator.url)
    assert_same_data(emulator, repo)
    assert emulator.token not in out.getvalue() + err.getvalue()

    with pytest.raises(CommandError, match="not found at .*404"):
        call_command(
            "mine",
            "deepseek-ai/nope",
            "--project",
            project.slug,
            "--api-url",
            emulator.url,
            stdout=out,
            stderr=err,
        )
    with pytest.raises(CommandError, match="does not exist. Pass --owner"):
        call_command(
            "mine",
            "deepseek-ai/DeepSeek-V3",
            "--project",
            "new-one",
            "--api-url",
            emulator.url,
            stdout=out,
            stderr=err,
        )
    call_command(
        "mine",
        "deepseek-ai/DeepSeek-V3",
        "--project",
        "new-one",
        "--owner",
        "owner",
        "--api-url",
        emulator.url,
        stdout=out,
        stderr=err,
    )
    assert ProjectRepository.objects.filter(repository=repo, mined=True).count() == 2


def test_mine_command_reports_a_bad_token_and_an_unreachable_host(
    project, emulator, settings, monkeypatch
):
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=3)
    settings.GITHUB_TOKEN = "ghp_not_the_right_one"
    monkeypatch.setattr(mining_crawl, "BACKOFF_SECONDS", 0.01)
    args = ["mine", "deepseek-ai/DeepSeek-V3", "--project", project.slug]
    with pytest.raises(CommandError, match="401 Bad credentials"):
        call_command(*args, "--api-url", emulator.url, stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="Cannot reach the GitHub API at http://127.0.0.1:9"):
        call_command(
            *args, "--api-url", "http://127.0.0.1:9", stdout=io.StringIO(), stderr=io.StringIO()
        )


def test_demo_loader_is_deterministic_idempotent_and_knows_the_truth(project):
    repositories = [
        ("QwenLM", "Qwen", "Qwen", {"model": "Qwen", "architecture": "Dense"}),
        ("meta-llama", "llama3", "Llama", {"model": "llama3", "architecture": "Dense"}),
    ]
    items = load_demo_issues(project=project, repositories=repositories, per_repository=30)
    again = load_demo_issues(project=project, repositories=repositories, per_repository=30)

    assert [i.pk for i in items] == [i.pk for i in again]
    assert len(items) == 2 * (30 - 30 // 9)  # every issue, no pull request
    assert [i.position for i in items] == list(range(len(items)))
    assert not any(i.issue.is_pull_request for i in items)
    assert items[0].metadata["architecture"] == "Dense"
    truth = demo_truth(items[0].issue)
    assert set(truth) == {"symptom", "root_cause", "stage"}
    assert " > " in truth["symptom"]
    assert Issue.objects.filter(repository__views__project=project).count() == 60
    assert set(Issue.objects.values_list("source", flat=True)) == {DEMO_SOURCE}
