from datetime import date

import pytest

from annotate.models import Item
from annotate.projects import pool
from mining.models import Issue, ProjectRepository
from tests.factories import IssueFactory, RepositoryFactory


@pytest.fixture
def issues(project):
    qwen = RepositoryFactory(owner="QwenLM", name="Qwen", group="Qwen", metadata={"model": "Qwen"})
    llama = RepositoryFactory(owner="meta-llama", name="llama3", group="Llama")
    other = RepositoryFactory(owner="x", name="not-in-project")
    for repo in (qwen, llama):
        ProjectRepository.objects.create(
            project=project,
            repository=repo,
            group=repo.factory_group,
            metadata=repo.factory_metadata,
            mined=True,
            last_synced_at="2024-12-01T00:00:00Z",
        )
    rows = []
    for n in range(1, 41):
        repo = qwen if n <= 30 else llama
        rows.append(
            IssueFactory(
                repository=repo,
                number=n,
                title="CUDA out of memory on A100" if n % 3 == 0 else "Tokenizer fails to load",
                body="torch.OutOfMemoryError" if n % 3 == 0 else "OSError: can't load",
                state="open" if n % 4 == 0 else "closed",
                labels=["bug"] if n % 2 else ["question"],
                comment_count=n % 5,
                created_at=f"2024-{1 + n % 12:02d}-15T00:00:00Z",
                is_pull_request=(n % 10 == 0),
            )
        )
    IssueFactory(repository=qwen, number=41, labels=["duplicate"], title="dup")
    IssueFactory(repository=other, number=1)
    return rows


def test_funnel_counts_each_filter_in_order(project, issues, django_assert_max_num_queries):
    definition = pool.PoolDefinition(
        groups=["Qwen"], state="closed", labels=["bug"], keywords="memory", min_comments=1
    )
    with django_assert_max_num_queries(8):
        rows = pool.funnel(project, definition)
    counts = dict(rows)
    assert counts["mined issues and pull requests"] == 41
    assert counts["pull requests excluded"] == 37
    assert counts["duplicates and deleted issues excluded"] == 36
    kept = [
        i
        for i in issues
        if not i.is_pull_request
        and i.repository.factory_group == "Qwen"
        and i.state == "closed"
        and "bug" in i.labels
        and "memory" in i.title.lower()
        and i.comment_count >= 1
    ]
    assert rows[-1][1] == len(kept) > 0


def test_regex_and_date_filters(project, issues):
    definition = pool.PoolDefinition(
        regex=r"tokeni[sz]er", created_after=date(2024, 3, 1), created_before=date(2024, 5, 31)
    )
    ids = pool.select_issue_ids(project, definition)
    chosen = Issue.objects.filter(pk__in=ids)
    assert chosen and all("Tokenizer" in i.title for i in chosen)
    assert all(3 <= i.created_at.month <= 5 for i in chosen)
    with pytest.raises(pool.PoolError):
        pool.funnel(project, pool.PoolDefinition(regex="(unclosed"))


def test_seeded_sample_is_reproducible_and_stratified(project, issues):
    definition = pool.PoolDefinition(sample_size=10, seed=42, stratify=True)
    first = pool.select_issue_ids(project, definition)
    assert first == pool.select_issue_ids(project, definition)
    assert first != pool.select_issue_ids(project, pool.PoolDefinition(sample_size=10, seed=43))
    repos = Issue.objects.filter(pk__in=first).values_list("repository__name", flat=True)
    # 27 Qwen and 9 Llama candidates: proportional shares of 10 are 7.5 and 2.5.
    assert sorted(repos).count("Qwen") in (7, 8) and len(first) == 10


def test_build_pool_creates_items_in_sample_order_and_stores_the_definition(project, issues):
    definition = pool.PoolDefinition(repositories=[issues[0].repository_id], sample_size=5, seed=1)
    items = pool.build_pool(project=project, definition=definition)
    assert [i.issue_id for i in items] == pool.select_issue_ids(project, definition)
    assert [i.position for i in items] == [0, 1, 2, 3, 4]
    assert all(i.metadata == {"model": "Qwen"} for i in items)
    assert all(i.snapshot_title == i.issue.title for i in items)
    project.refresh_from_db()
    stored = pool.PoolDefinition.from_json(project.sample_definition)
    assert stored == definition
    # Rebuilding the same definition adds nothing and keeps every item.
    pool.build_pool(project=project, definition=stored)
    assert Item.objects.filter(project=project).count() == 5
