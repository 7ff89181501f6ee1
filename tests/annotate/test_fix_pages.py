"""The fix beside the issue on the labeling and conflict pages (templates/annotate/_fixes.html):
title, merged or not, diff size, link; GitHub's text escaped; nothing while the text is
hidden."""

from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotate.labeling.queue import next_item
from mining.models import FixLink, Repository
from tests.builders import DEVICE, OOM, in_conflict, record
from tests.factories import ItemFactory

HOSTILE = '<script>alert("fix")</script><img src=x onerror=alert(1)>'


def add_fixes(issue) -> None:
    FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.CLOSING_PR,
        ref="meta-llama/llama3#412",
        number=412,
        url="https://github.com/meta-llama/llama3/pull/412",
        title=HOSTILE,
        state="MERGED",
        merged=True,
        merged_at=datetime(2024, 3, 2, tzinfo=UTC),
        files_changed=3,
        additions=41,
        deletions=7,
    )
    FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.REFERENCING_PR,
        ref="meta-llama/llama3#415",
        number=415,
        url="javascript:alert(1)",
        title="Work around the loader",
        state="OPEN",
        merged=False,
        files_changed=1,
        additions=2,
        deletions=0,
    )


def test_the_labeling_page_shows_the_fix_escaped(project, cast, client_for):
    ItemFactory(project=project)
    item = next_item(project=project, user=cast["annotator_a"])
    add_fixes(item.issue)

    page = client_for(cast["annotator_a"]).get(
        reverse("label-item", kwargs={"slug": project.slug, "item_id": item.pk})
    )
    html = page.content.decode()

    assert page.status_code == 200
    assert 'class="issue-fixes"' in html
    assert "&lt;script&gt;alert(&quot;fix&quot;)&lt;/script&gt;" in html
    assert HOSTILE not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert 'href="https://github.com/meta-llama/llama3/pull/412"' in html
    assert "javascript:" not in html  # an address that is not a web link is not linked
    assert "merged 2024-03-02" in html and "+41" in html and "in 3 files" in html
    assert "not merged (open)" in html


def test_the_conflict_page_shows_the_fix(project, cast, client_for):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    add_fixes(item.issue)

    html = (
        client_for(cast["lead"])
        .get(reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": item.pk}))
        .content.decode()
    )

    assert 'class="issue-fixes"' in html and "Work around the loader" in html
    assert "closing pull request" in html and "&lt;script&gt;" in html


def test_no_fix_section_without_links_or_while_the_text_is_hidden(project, cast, client_for):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    url = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": item.pk})
    lead = client_for(cast["lead"])
    assert 'class="issue-fixes"' not in lead.get(url).content.decode()

    add_fixes(item.issue)
    Repository.objects.filter(pk=item.issue.repository_id).update(private=None)
    html = lead.get(url).content.decode()
    assert "The text is not shown" in html
    assert 'class="issue-fixes"' not in html and "Work around the loader" not in html


def secret_link(issue) -> None:
    """A pull request of a private repository another project mined with its own token,
    cross-referencing a public issue (GitHub tells such a reference to a token that reads
    the private repository, and the issue's links are shared rows)."""
    Repository.objects.create(owner="acme", name="secret", private=True)
    FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.REFERENCING_PR,
        ref="acme/secret#9",
        number=9,
        url="https://github.com/acme/secret/pull/9",
        title="Patch the CVE-2024-0001 exploit in acme's billing",
        state="OPEN",
        merged=False,
    )
    FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.REFERENCING_COMMIT,
        ref="a" * 40,
        sha="a" * 40,
        url="https://github.com/acme/secret/commit/" + "a" * 40,
        title="Secret commit headline",
    )


def test_a_link_of_a_private_repository_the_project_may_not_read_is_not_shown(
    project, cast, client_for
):
    item = in_conflict(project, cast, [record(OOM)], [record(DEVICE)])
    add_fixes(item.issue)
    secret_link(item.issue)
    url = reverse("conflict-detail", kwargs={"slug": project.slug, "item_id": item.pk})

    html = client_for(cast["lead"]).get(url).content.decode()

    assert "Work around the loader" in html  # the issue's own repository's links stay
    assert "CVE-2024-0001" not in html and "acme/secret" not in html
    assert "Secret commit headline" not in html


def test_the_labeling_page_reads_many_fix_links_in_a_bounded_number_of_queries(
    project, cast, client_for
):
    ItemFactory(project=project)
    item = next_item(project=project, user=cast["annotator_a"])
    url = reverse("label-item", kwargs={"slug": project.slug, "item_id": item.pk})
    annotator = client_for(cast["annotator_a"])
    add_fixes(item.issue)
    annotator.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert annotator.get(url).status_code == 200
        return len(captured)

    few = queries()
    for number in range(200):
        FixLink.objects.create(
            issue=item.issue,
            kind=FixLink.Kind.REFERENCING_PR,
            ref=f"fork{number}/llama3#{number}",
            number=number + 1,
            url=f"https://github.com/fork{number}/llama3/pull/{number}",
            title=f"Mention {number}",
            merged=False,
        )
    many = queries()
    # The links of other repositories cost one query to check which may not be read.
    assert many <= few + 1, (few, many)
