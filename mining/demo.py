"""The demo's issues: the GitHub API emulator started in this process with generated
repositories, mined through the real miner (synchronously). annotate.demo turns them into
the project's items (the miner only mines)."""

from __future__ import annotations

from functools import lru_cache

from annotate.models import Project

from .crawl import make_client
from .emulator import GitHubEmulator
from .jobs import MiningError, add_repository, run_job_sync, start_mining_job
from .models import DEMO_SOURCE, Issue, MiningJob, Repository
from .synthetic import DEMO_REPOSITORIES, generate_issues

DEMO_SEED = 0
DEMO_PULL_REQUEST_EVERY = 9
DEMO_COMMENTS_PER_ISSUE = (0, 4)


def mine_demo_issues(
    *, project: Project, repositories=DEMO_REPOSITORIES, per_repository: int
) -> list[Repository]:
    """Mine `per_repository` generated issues and pull requests of each repository into
    `project` from an in-process emulator. Deterministic and idempotent. Returns the
    repositories, in the order given.

    Everything is stored under the demo's own source (DEMO_SOURCE), never github.com's:
    the generated issues carry real repository names, and must not share a row with
    what the study imports or mines from GitHub."""
    emulator = GitHubEmulator()
    for owner, name, _group, _metadata in repositories:
        emulator.add_repository(
            owner,
            name,
            issues=per_repository,
            seed=DEMO_SEED,
            pull_request_every=DEMO_PULL_REQUEST_EVERY,
            comments_per_issue=DEMO_COMMENTS_PER_ISSUE,
        )
    with emulator:
        repos = [
            add_repository(
                project=project,
                full_name=f"{owner}/{name}",
                group=group,
                metadata=metadata,
                source=DEMO_SOURCE,
            )
            for owner, name, group, metadata in repositories
        ]
        # A fresh emulator is a fresh world: crawl it from the start.
        Repository.objects.filter(pk__in=[r.pk for r in repos]).update(
            issues_watermark=None, comments_watermark=None, issues_etag="", comments_etag=""
        )
        job = start_mining_job(
            project=project,
            repositories=repos,
            api_url=emulator.url,
            source=DEMO_SOURCE,
            dispatch=False,
            fixes=True,  # the labeling and conflict pages show each issue's fix
        )
        client = make_client(api_url=emulator.url, token="")
        try:
            job = run_job_sync(job=job, client=client)
        finally:
            client.close()
    if job.status != MiningJob.Status.DONE:
        raise MiningError("Mining the demo issues failed: " + "; ".join(job.errors))
    return repos


@lru_cache(maxsize=64)
def _truths(owner: str, name: str, count: int) -> dict[int, dict]:
    generated = generate_issues(
        owner,
        name,
        count,
        seed=DEMO_SEED,
        pull_request_every=DEMO_PULL_REQUEST_EVERY,
        comments_per_issue=DEMO_COMMENTS_PER_ISSUE,
    )
    return {issue["number"]: issue["_truth"] for issue in generated}


def demo_truth(issue: Issue) -> dict:
    """The failure a demo issue was generated from: {"symptom", "root_cause", "stage"} as
    category paths joined by " > "."""
    count = (issue.number // 256 + 1) * 256  # generation is sequential: any longer run agrees
    repository = issue.repository
    return dict(_truths(repository.owner, repository.name, count)[issue.number])
