"""One mining job through every fault the GitHub emulator knows: secondary limits (403
and 429), a primary limit with its reset, 502s, a reply slower than the client's timeout,
truncated JSON, a transferred issue (301) and a deleted one (410). The job finishes with
complete data and a log that names each fault it met."""

from annotate.projects.services import create_project
from mining import jobs
from mining.models import Comment, Issue, MiningJob

SOURCE = "/repos/QwenLM/Qwen/issues/"
# (fault, options, what the job log says about it)
FAULTS = [
    ("secondary", {"seconds": 1, "after": 2}, "secondary rate limit (403)"),
    ("429", {"seconds": 1, "after": 5}, "secondary rate limit (429)"),
    ("primary", {"seconds": 2, "after": 8}, "primary rate limit (403)"),
    ("502", {"times": 2, "after": 11}, "server error 502"),
    ("slow", {"seconds": 1.6, "after": 14}, "timeout"),
    ("truncated", {"after": 3, "path_contains": "/comments"}, "cut or invalid JSON"),
]


def test_one_job_through_every_fault_ends_complete_and_names_each_fault(
    transactional_db, emulator, settings, monkeypatch
):
    settings.GITHUB_TOKEN = emulator.token
    monkeypatch.setenv("GITHUB_TIMEOUT", "1")  # the slow reply takes longer than this
    source = emulator.add_repository("QwenLM", "Qwen", issues=40, comments=120)
    emulator.add_repository("QwenLM", "Qwen2.5", issues=5, comments=3)
    emulator.delete_issue("QwenLM", "Qwen", 3)
    moved_id = source.issues[4]["id"]
    new_number = emulator.transfer_issue("QwenLM", "Qwen", 4, "QwenLM", "Qwen2.5")
    for kind, options, _ in FAULTS:
        emulator.inject(kind, **{"path_contains": SOURCE, **options})
    project = create_project(name="Faults", slug="faults", preset=False)
    links = [f"https://github.com/QwenLM/Qwen/issues/{n}" for n in range(1, 41)]

    job = jobs.start_mining_job(
        project=project,
        links=links,
        kind=MiningJob.Kind.SINGLE,
        api_url=emulator.url,
        dispatch=False,
    )
    job = jobs.run_job_sync(job=job)

    assert job.status == MiningJob.Status.DONE, job.errors
    assert job.errors == []
    log = "\n".join(job.log)
    for kind, _, named in FAULTS + [("301", {}, "moved (301)"), ("410", {}, "deleted (410)")]:
        assert named in log, (kind, job.log)
    assert all(fault.times == 0 for fault in emulator.faults), "every fault was met"
    # Complete data: every issue still there, with its comments, exactly as GitHub has it.
    stored = {
        issue.number: issue
        for issue in Issue.objects.filter(repository__name="Qwen", fetched=True, gone="")
    }
    assert set(stored) == set(source.issues)
    for number, issue in source.issues.items():
        assert (stored[number].github_id, stored[number].title) == (issue["id"], issue["title"])
        assert stored[number].updated_at == issue["updated_at"]
    expected = {cid: c["body"] for cid, c in source.comments.items()}
    comments = Comment.objects.filter(issue__repository__name="Qwen")
    assert dict(comments.values_list("github_id", "body")) == expected
    assert Issue.objects.get(repository__name="Qwen", number=3).gone == Issue.Gone.DELETED
    assert Issue.objects.get(repository__name="Qwen", number=4).gone == Issue.Gone.MOVED
    moved = Issue.objects.get(github_id=moved_id)
    assert (moved.repository.name, moved.number) == ("Qwen2.5", new_number)
    assert emulator.token not in log
