"""Evidence spans through the labeling form, the API and the lead's pages (issue #15):
checked against the text the annotator saw, written with the quote, highlighted only for
those who may see them."""

import pytest
from django.urls import reverse

from annotate.evidence import IssueText
from annotate.models import Annotation, AnnotationLabel, Category
from annotate.spans import text_hash
from tests.builders import GPU_MEMORY, OOM, in_conflict
from tests.factories import CommentFactory, IssueFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")

BODY = "It dies 😀 with **CUDA out of memory** on step 2.\r\n\nThen 👩‍👩‍👧 hangs."


@pytest.fixture
def world(project, cast):
    """An item whose issue has an emoji-laden body and a comment, held by annotator_a,
    and another item's comment."""
    issue = IssueFactory(title="OOM 😀 on A100", body=BODY)
    comment = CommentFactory(issue=issue, body="Same on 👩‍👩‍👧 H100: `CUBLAS_STATUS_ALLOC_FAILED`")
    item = ItemFactory(project=project, issue=issue)
    other = CommentFactory(issue=ItemFactory(project=project).issue, body="Unrelated text")
    client = _client(cast["annotator_a"])
    assert client.get(reverse("label-next", args=[project.slug])).status_code == 302
    return {"item": item, "comment": comment, "other": other, "client": client}


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def span(project, item, part, quote, *, start_shift=0, text=None):
    """The form value of `quote` in `part` as the labeling page measures it."""
    texts = IssueText(project, item).texts()
    plain = texts[part] if text is None else text
    start = plain.index(quote) + start_shift
    return f"{part}:{start}:{start + len(quote)}:{text_hash(texts[part])}"


def form(project, **fields):
    paths = dict(
        Category.objects.filter(dimension__project=project).values_list("dimension__key", "pk")
    )
    data = {
        "record_count": "1",
        "r0-symptom": str(Category.objects.get(path=OOM).pk),
        "r0-root_cause": str(Category.objects.get(path=GPU_MEMORY).pk),
        "r0-stage": "Inference",
    }
    assert paths
    data.update(fields)
    return data


def post(world, project, **fields):
    url = reverse("label-item", args=[project.slug, world["item"].pk])
    return world["client"].post(url, form(project, **fields))


def test_a_span_in_the_body_is_stored_in_code_points_with_its_quote(project, world):
    item = world["item"]
    value = span(project, item, "body", "CUDA out of memory")
    response = post(
        world, project, **{"r0-symptom-evidence": "CUDA out of memory", "r0-symptom-span": value}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    label = AnnotationLabel.objects.get(dimension__key="symptom")
    text = IssueText(project, item).plain("body")
    assert (label.span_part, label.span_comment) == ("body", None)
    assert text[label.span_start : label.span_end] == "CUDA out of memory"
    # "It dies 😀 with ": the emoji is one character, not two UTF-16 units.
    assert label.span_start == len("It dies 😀 with ") == 15
    assert label.span_hash == text_hash(text)
    assert label.evidence == "CUDA out of memory"


def test_a_span_in_a_comment_and_in_the_title(project, world):
    item, comment = world["item"], world["comment"]
    part = f"comment-{comment.pk}"
    response = post(
        world,
        project,
        **{
            "r0-symptom-evidence": "👩‍👩‍👧 H100",
            "r0-symptom-span": span(project, item, part, "👩‍👩‍👧 H100"),
            "r0-stage-evidence": "A100",
            "r0-stage-span": span(project, item, "title", "A100"),
        },
    )
    assert response.status_code == 302
    symptom = AnnotationLabel.objects.get(dimension__key="symptom")
    assert (symptom.span_part, symptom.span_comment) == ("comment", comment.pk)
    # "Same on ", then the family emoji: five code points (three people, two joiners),
    # eight UTF-16 units; then " H100".
    assert (symptom.span_start, symptom.span_end) == (8, 18)
    stage = AnnotationLabel.objects.get(dimension__key="stage")
    assert (stage.span_part, stage.span_start, stage.span_end) == ("title", 9, 13)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"r0-symptom-evidence": "CUDA out of disk"},
            "Record 1, Symptom: the quote does not match characters 15-33 of the body",
        ),
        (
            {"r0-symptom-evidence": "CUDA out of memory", "shift": 1000},
            "but the body has",
        ),
        ({"r0-symptom-evidence": "", "keep": True}, "an evidence span needs its quote"),
        ({"r0-symptom-span": "body:1:2"}, "not in the form part:start:end:hash"),
    ],
)
def test_a_wrong_span_is_refused_by_name_and_nothing_is_written(project, world, fields, message):
    fields = dict(fields)
    value = span(project, world["item"], "body", "CUDA out of memory")
    if "shift" in fields:
        part, start, end, digest = value.split(":")
        value = f"body:{int(start) + fields.pop('shift')}:{int(end) + 1000}:{digest}"
    fields.pop("keep", None)
    fields.setdefault("r0-symptom-span", value)
    response = post(world, project, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Annotation.objects.exists() and not AnnotationLabel.objects.exists()


def test_a_comment_of_another_item_is_refused(project, world):
    other = world["other"]
    value = f"comment-{other.pk}:0:9:{text_hash('Unrelated text')}"
    response = post(
        world, project, **{"r0-symptom-evidence": "Unrelated", "r0-symptom-span": value}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"comment {other.pk} is not a comment of this item&#x27;s issue" in page
    assert not Annotation.objects.exists()


def test_a_span_taken_before_the_issue_was_edited_is_refused(project, world):
    value = span(project, world["item"], f"comment-{world['comment'].pk}", "H100")
    world["comment"].body = "Edited: same on H100"
    world["comment"].save()
    response = post(world, project, **{"r0-symptom-evidence": "H100", "r0-symptom-span": value})
    assert response.status_code == 400
    assert "changed since you selected the evidence" in response.content.decode()


def test_the_api_takes_spans_and_still_returns_the_quotes(project, world, cast, api_for):
    item = world["item"]
    body = {
        "records": [
            {
                "labels": [
                    {
                        "dimension": "symptom",
                        "category": OOM,
                        "evidence": "CUDA out of memory",
                        "span": span(project, item, "body", "CUDA out of memory"),
                    },
                    {"dimension": "root_cause", "category": GPU_MEMORY},
                    {"dimension": "stage", "category": "Inference"},
                ]
            }
        ],
        "active_seconds": 95,
    }
    api = api_for(cast["annotator_a"])
    url = reverse("api-annotation-submit", args=[project.slug, item.pk])
    response = api.post(url, body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["records"][0]["labels"][0]["evidence"] == "CUDA out of memory"
    assert Annotation.objects.get().active_seconds == 95
    # Quotes stay exportable as before: the item's annotations, as a lead reads them.
    listed = api_for(cast["lead"]).get(url).json()
    symptom = listed["annotations"][0]["records"][0]["labels"][0]
    assert (symptom["dimension"], symptom["evidence"]) == ("symptom", "CUDA out of memory")
    body["records"][0]["labels"][0]["evidence"] = "CUDA"
    bad = api.post(url, body, format="json")
    assert bad.status_code == 400
    assert "the quote does not match" in bad.json()["detail"] + str(bad.json()["fields"])


def test_the_own_span_is_highlighted_on_reload_and_nobody_elses(project, world, cast):
    item = world["item"]
    value = span(project, item, "body", "CUDA out of memory")
    post(world, project, **{"r0-symptom-evidence": "CUDA out of memory", "r0-symptom-span": value})
    page = world["client"].get(reverse("label-item", args=[project.slug, item.pk])).content
    page = page.decode()
    assert (
        '<mark class="evidence evidence-own" title="Your evidence: Symptom">'
        "CUDA out of memory</mark>" in page
    )
    assert f'value="{value}"' in page  # the form keeps the span for a revision
    # annotator_b labels the same item: A's evidence is nowhere on B's page.
    b = _client(cast["annotator_b"])
    b.get(reverse("label-next", args=[project.slug]))
    other = b.get(reverse("label-item", args=[project.slug, item.pk])).content.decode()
    assert "<mark" not in other and value not in other
    # Nor can B reach the lead's pages of the item.
    for name in ("conflict-detail", "item-history"):
        assert b.get(reverse(name, args=[project.slug, item.pk])).status_code in (403, 404)


def test_the_lead_sees_both_annotators_spans_on_the_conflict_and_history_pages(
    project, cast, client_for
):
    item = in_conflict(project, cast, b_records=[{"symptom": "Hang", "stage": "Inference"}])
    text = IssueText(project, item).plain("body")
    for user, quote in (("annotator_a", "Running the model"), ("annotator_b", "model fails")):
        start = text.index(quote)
        AnnotationLabel.objects.filter(annotator=cast[user], dimension__key="symptom").update(
            evidence=quote,
            span_part="body",
            span_start=start,
            span_end=start + len(quote),
            span_hash=text_hash(text),
        )
    lead = client_for(cast["lead"])
    for name in ("conflict-detail", "item-history"):
        page = lead.get(reverse(name, args=[project.slug, item.pk])).content.decode()
        assert (
            '<mark class="evidence evidence-a" title="Annotator A: Symptom">Running the </mark>'
            in page
        )
        assert (
            '<mark class="evidence evidence-a evidence-b" '
            'title="Annotator A: Symptom; Annotator B: Symptom">model</mark>' in page
        )
        assert "Annotator B: dashed underline" in page
    # The issue changes: the spans are listed as stale, not drawn at wrong places.
    item.issue.body = "Rewritten. " + item.issue.body
    item.issue.save()
    page = lead.get(reverse("conflict-detail", args=[project.slug, item.pk])).content.decode()
    assert '<mark class="evidence evidence-a' not in page
    assert "changed since the evidence was selected" in page and "Running the model" in page


def test_an_annotator_sees_the_other_side_only_once_a_lead_opens_a_discussion(
    project, cast, client_for
):
    from annotate.adjudication.discussion import start_discussion

    item = in_conflict(project, cast, b_records=[{"symptom": "Hang", "stage": "Inference"}])
    text = IssueText(project, item).plain("body")
    start = text.index("model fails")
    AnnotationLabel.objects.filter(annotator=cast["annotator_b"], dimension__key="symptom").update(
        evidence="model fails",
        span_part="body",
        span_start=start,
        span_end=start + len("model fails"),
        span_hash=text_hash(text),
    )
    a = client_for(cast["annotator_a"])
    url = reverse("item-discussion", args=[project.slug, item.pk])
    blind = a.get(url)  # in conflict: still blind
    assert blind.status_code in (403, 404) and "model fails" not in blind.content.decode()
    start_discussion(item=item, actor=cast["lead"], note="Look again")
    page = a.get(url).content.decode()
    assert (
        '<mark class="evidence evidence-b" title="Annotator B: Symptom">model fails</mark>' in page
    )
