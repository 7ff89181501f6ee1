import math

from mining import jobs
from mining.models import Comment, Issue, MiningJob


def formula(emulator, owner, name) -> int:
    """A first crawl's requests: the repository itself (its `private` flag, fetched once),
    then ⌈N/100⌉ + ⌈C/100⌉ list pages."""
    repo = emulator.repo(owner, name)
    return 1 + math.ceil(len(repo.issues) / 100) + math.ceil(len(repo.comments) / 100)


def crawl(project, repositories, emulator, **kwargs) -> MiningJob:
    """Run a crawl job synchronously (the same services the Celery task calls)."""
    job = jobs.start_mining_job(
        project=project, repositories=repositories, api_url=emulator.url, dispatch=False
    )
    return jobs.run_job_sync(job=job, sleep=kwargs.get("sleep", __import__("time").sleep))


def assert_same_data(emulator, repository):
    """The database holds exactly the emulator's issues, pull requests and comments."""
    repo = emulator.repo(repository.owner, repository.name)
    stored = {
        i.number: i for i in Issue.objects.filter(repository=repository, fetched=True, gone="")
    }
    assert set(stored) == set(repo.issues)
    for number, issue in repo.issues.items():
        row = stored[number]
        assert row.github_id == issue["id"]
        assert row.title == issue["title"]
        assert row.body == issue["body"]
        assert row.state == issue["state"]
        assert row.is_pull_request == ("pull_request" in issue)
        assert row.comment_count == issue["comments"]
    comments = dict(
        Comment.objects.filter(issue__repository=repository).values_list("github_id", "body")
    )
    assert comments == {cid: c["body"] for cid, c in repo.comments.items()}
    numbers = dict(
        Comment.objects.filter(issue__repository=repository).values_list(
            "github_id", "issue__number"
        )
    )
    assert numbers == {cid: c["issue_number"] for cid, c in repo.comments.items()}
