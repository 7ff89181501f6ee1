"""Evidence quoted from a fix's title (issue #20): a part "fix-<FixLink id>" checked,
stored and highlighted like a comment, only for the item's own issue's fixes."""

import pytest
from django.urls import reverse

from annotate.evidence import IssueText
from annotate.models import Annotation, AnnotationLabel
from annotate.spans import text_hash
from mining.models import FixLink, Repository
from tests.annotate.test_evidence_spans import _client, post, span
from tests.builders import GPU_MEMORY, OOM, in_conflict
from tests.factories import CommentFactory, IssueFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")

TITLE = "Free the KV cache <b>before</b> 😀 the next batch"


def fix_of(issue, title=TITLE, number=77) -> FixLink:
    return FixLink.objects.create(
        issue=issue,
        kind=FixLink.Kind.CLOSING_PR,
        ref=f"acme/llm#{number}",
        number=number,
        url=f"https://github.com/acme/llm/pull/{number}",
        title=title,
        state="MERGED",
        merged=True,
    )


@pytest.fixture
def world(project, cast):
    issue = IssueFactory(title="OOM on A100", body="It dies with CUDA out of memory.")
    CommentFactory(issue=issue, body="Same here")
    item = ItemFactory(project=project, issue=issue)
    fix = fix_of(issue)
    other_fix = fix_of(ItemFactory(project=project).issue, title="Unrelated fix", number=78)
    client = _client(cast["annotator_a"])
    assert client.get(reverse("label-next", args=[project.slug])).status_code == 302
    return {"item": item, "fix": fix, "other_fix": other_fix, "client": client}


def test_a_span_in_a_fix_title_is_accepted_and_stored(project, world):
    item, fix = world["item"], world["fix"]
    value = span(project, item, f"fix-{fix.pk}", "KV cache <b>before</b> 😀 the")
    response = post(
        world,
        project,
        **{"r0-symptom-evidence": "KV cache <b>before</b> 😀 the", "r0-symptom-span": value},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    label = AnnotationLabel.objects.get(dimension__key="symptom")
    assert (label.span_part, label.span_fix, label.span_comment) == ("fix", fix.pk, None)
    # Code points of the title as the page shows it: the tags are text, the emoji is one.
    assert (label.span_start, label.span_end) == (9, 9 + len("KV cache <b>before</b> 😀 the"))
    assert label.span_hash == text_hash(TITLE)
    assert label.span_key == f"fix-{fix.pk}"
    # On reload, the annotator's own span is drawn inside the fix's title, escaped.
    page = world["client"].get(reverse("label-item", args=[project.slug, item.pk])).content
    page = page.decode()
    assert (
        '<mark class="evidence evidence-own" title="Your evidence: Symptom">'
        "KV cache &lt;b&gt;before&lt;/b&gt; 😀 the</mark>" in page
    )
    assert f'data-evidence-part="fix-{fix.pk}" data-evidence-hash="{text_hash(TITLE)}"' in page
    assert f'value="{value}"' in page


def test_another_annotator_sees_the_fix_but_not_the_span(project, world, cast):
    item, fix = world["item"], world["fix"]
    value = span(project, item, f"fix-{fix.pk}", "KV cache")
    post(world, project, **{"r0-symptom-evidence": "KV cache", "r0-symptom-span": value})
    b = _client(cast["annotator_b"])
    b.get(reverse("label-next", args=[project.slug]))
    page = b.get(reverse("label-item", args=[project.slug, item.pk])).content.decode()
    assert f'data-evidence-part="fix-{fix.pk}"' in page  # B may quote the fix too
    assert "<mark" not in page and value not in page


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other", "the fix #{other} is not a fix shown beside this item&#x27;s issue"),
        ("gone", "the fix #{gone} is not a fix shown beside this item&#x27;s issue"),
        ("offset", "the quote does not match characters 0-8 of the fix #{fix}"),
        ("hash", "the fix #{fix} changed since you selected the evidence"),
        ("long", "but the fix #{fix} has 48 characters"),
    ],
)
def test_a_wrong_fix_span_is_refused_by_name_and_nothing_is_written(project, world, case, message):
    fix, other = world["fix"], world["other_fix"]
    quote, digest = "KV cache", text_hash(TITLE)
    value = {
        "other": f"fix-{other.pk}:0:9:{text_hash('Unrelated fix')}",
        "gone": f"fix-999999999:0:8:{digest}",
        "offset": f"fix-{fix.pk}:0:8:{digest}",
        "hash": f"fix-{fix.pk}:9:17:{text_hash('Free the KV cache')}",
        "long": f"fix-{fix.pk}:9:900:{digest}",
    }[case]
    if case == "other":
        quote = "Unrelated"
    response = post(world, project, **{"r0-symptom-evidence": quote, "r0-symptom-span": value})
    assert response.status_code == 400
    expected = message.format(other=other.pk, gone=999999999, fix=fix.pk)
    assert expected in response.content.decode()
    assert not Annotation.objects.exists() and not AnnotationLabel.objects.exists()


def test_the_api_refuses_another_issues_fix_with_a_clear_body(project, world, cast, api_for):
    other = world["other_fix"]
    labels = [
        {
            "dimension": "symptom",
            "category": OOM,
            "evidence": "Unrelated",
            "span": f"fix-{other.pk}:0:9:{text_hash('Unrelated fix')}",
        },
        {"dimension": "root_cause", "category": GPU_MEMORY},
        {"dimension": "stage", "category": "Inference"},
    ]
    url = reverse("api-annotation-submit", args=[project.slug, world["item"].pk])
    response = api_for(cast["annotator_a"]).post(
        url, {"records": [{"labels": labels}]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert f"the fix #{other.pk} is not a fix shown beside" in body["detail"] + str(
        body.get("fields")
    )
    assert not Annotation.objects.exists()


def test_a_hidden_issue_has_no_fix_parts(project, world):
    """A fix's title is the repository's text: not a part while the project may not read
    the issue (a repository not known to be public that none of its jobs fetched)."""
    item = world["item"]
    Repository.objects.filter(pk=item.issue.repository_id).update(private=None)
    item.issue.repository.refresh_from_db()
    text = IssueText(project, item)
    assert f"fix-{world['fix'].pk}" not in text.texts()
    assert text.shown([])["fixes"] == []


def test_the_conflict_and_history_pages_highlight_spans_in_fix_titles(project, cast, client_for):
    item = in_conflict(project, cast, b_records=[{"symptom": "Hang", "stage": "Inference"}])
    fix = fix_of(item.issue)
    for user, quote in (("annotator_a", "KV cache"), ("annotator_b", "the next batch")):
        start = TITLE.index(quote)
        AnnotationLabel.objects.filter(annotator=cast[user], dimension__key="symptom").update(
            evidence=quote,
            span_part="fix",
            span_fix=fix.pk,
            span_start=start,
            span_end=start + len(quote),
            span_hash=text_hash(TITLE),
        )
    lead = client_for(cast["lead"])
    for name in ("conflict-detail", "item-history"):
        page = lead.get(reverse(name, args=[project.slug, item.pk])).content.decode()
        fixes = page[page.index('class="issue-fixes"') :]
        assert (
            '<mark class="evidence evidence-a" title="Annotator A: Symptom">KV cache</mark>'
            in fixes
        ), name
        assert (
            '<mark class="evidence evidence-b" title="Annotator B: Symptom">the next batch</mark>'
            in fixes
        ), name
    # The fix is mined again (its links replaced): the spans are listed as stale.
    FixLink.objects.filter(pk=fix.pk).delete()
    fix_of(item.issue)
    page = lead.get(reverse("conflict-detail", args=[project.slug, item.pk])).content.decode()
    assert '<mark class="evidence evidence-a' not in page
    assert f"(the fix #{fix.pk}): <q>KV cache</q>" in page
