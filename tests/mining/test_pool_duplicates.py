"""Near-duplicates at pool building (issue #19): the pool keeps one issue per group of
near-duplicates (similar text, or GitHub's "Duplicate of #N"), the funnel and the page
show the folding with examples, and the stored definition records the rule."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.projects import pool
from mining.models import ProjectRepository
from tests.factories import IssueFactory, RepositoryFactory
from tests.near_duplicates import seed_corpus


@pytest.fixture
def corpus(project):
    repository = RepositoryFactory()
    ProjectRepository.objects.create(
        project=project, repository=repository, mined=True, last_synced_at="2024-12-01T00:00:00Z"
    )
    return seed_corpus(repository)


def test_the_pool_keeps_one_representative_per_group(project, corpus, cast):
    definition = pool.PoolDefinition(near_duplicates=0.5)
    items = pool.build_pool(project=project, definition=definition, user=cast["owner"])
    kept = {item.issue_id for item in items}
    assert len(kept & {corpus[k].pk for k in ("oom", "oom_reworded", "oom_same_title")}) == 1
    assert len(kept & {corpus["hang"].pk, corpus["hang_reworded"].pk}) == 1
    assert corpus["template"].pk in kept and corpus["template_marked"].pk not in kept
    assert corpus["docs"].pk in kept
    project.refresh_from_db()
    assert project.sample_definition["near_duplicates"] == 0.5


def test_without_a_threshold_every_issue_stays(project, corpus):
    assert len(pool.select_issue_ids(project, pool.PoolDefinition())) == len(corpus)


def test_the_funnel_counts_the_folding_and_the_page_previews_groups(
    project, corpus, cast, client_for
):
    rows = pool.funnel(project, pool.PoolDefinition(near_duplicates=0.5))
    assert rows[-1][0].startswith("near-duplicates folded") and rows[-1][1] == len(corpus) - 5
    url = reverse("mining-pool", args=[project.slug])
    response = client_for(cast["owner"]).post(url, {"near_duplicates": "0.5", "count": "1"})
    html = response.content.decode()
    assert 'id="pool-duplicates"' in html and "GitHub marker" in html
    assert "Loading the 72B checkpoint runs out of GPU memory" in html


@pytest.mark.parametrize("raw", ["0", "2", "x", "nan"])
def test_a_bad_threshold_is_refused_by_the_form(project, corpus, cast, client_for, raw):
    url = reverse("mining-pool", args=[project.slug])
    response = client_for(cast["owner"]).post(url, {"near_duplicates": raw, "commit": "1"})
    assert response.status_code == 200
    assert "near_duplicates" in response.context["form"].errors
    assert not project.items.exists()


@pytest.mark.parametrize("commit", [False, True])
def test_a_preview_or_a_build_groups_the_issues_once(project, corpus, cast, client_for, commit):
    """The funnel, the preview and the build share one grouping: on 100,000 issues each
    grouping is over a minute, and the page paid it two or three times."""
    data = {"near_duplicates": "0.5", **({"commit": "1"} if commit else {"count": "1"})}
    with CaptureQueriesContext(connection) as captured:
        response = client_for(cast["owner"]).post(reverse("mining-pool", args=[project.slug]), data)
    assert response.status_code == (302 if commit else 200)
    assert sum("show_trgm" in query["sql"] for query in captured) == 1


def test_the_kept_issue_is_the_one_opened_first_not_the_one_stored_first(project, cast):
    """The miner stores issues by last update (oldest update first), so an old report
    that got a late comment is stored after its younger duplicate: "else the oldest"
    means the first opened on GitHub."""
    repository = RepositoryFactory()
    ProjectRepository.objects.create(
        project=project, repository=repository, mined=True, last_synced_at="2024-12-01T00:00:00Z"
    )
    title = "Tokenizer hangs forever on an empty string"
    younger = IssueFactory(repository=repository, title=title, created_at="2024-06-01T00:00Z")
    older = IssueFactory(repository=repository, title=title + "!", created_at="2023-01-01T00:00Z")
    assert younger.pk < older.pk  # stored first
    items = pool.build_pool(project=project, definition=pool.PoolDefinition(near_duplicates=0.6))
    assert [item.issue_id for item in items] == [older.pk]


def test_the_methods_section_says_the_pool_was_folded_and_how(project, corpus, cast):
    """The folding changed the sample: the methods section's list of filters must say so,
    with the threshold and which issue of a group was kept."""
    from analysis.methods import methods_facts
    from analysis.methods_text import methods_latex, methods_markdown

    definition = pool.PoolDefinition(near_duplicates=0.55)
    pool.build_pool(project=project, definition=definition, user=cast["owner"])
    facts = methods_facts(project)
    for text in (methods_markdown(facts), methods_latex(facts)):
        assert "near-duplicates folded" in text
        assert "similarity of at least 0.55" in text
        assert "Duplicate of" in text
