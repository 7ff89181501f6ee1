"""Similar items, duplicate groups and the consistency report over REST (issue #19).

Similar items: every member, for an item they may open; an annotator only once their
own annotation of it is in, and then only settled items (as on the labeling page).
Leads and owners see similar items in any state, but a final label only for settled
ones: an unsettled item's labels never show here. Duplicate groups and the consistency
report: leads and owners."""

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    MANAGERS,
    get_item_for_user,
    may_see_precedents,
    project_items,
    similar_item_scope,
)
from annotate.api.base import ERRORS, ProjectScoped
from annotate.errors import ServiceError
from annotate.models import FinalRecordLabel, Item
from annotate.precedents import serializers
from annotate.precedents.consistency import consistency_report
from annotate.precedents.duplicates import item_duplicate_groups, parse_threshold
from annotate.precedents.lookup import ranked_items
from annotate.records import to_wire

MAX_LIMIT = 50
THRESHOLD = OpenApiParameter(
    "threshold", float, description="Similarity score from 0 (excluded) to 1; 0.6 by default."
)


def _threshold(request) -> float:
    try:
        return parse_threshold(request.query_params.get("threshold"))
    except ServiceError as error:
        raise ValidationError({"threshold": [str(error)]}) from None


def _issue(item) -> dict:
    issue = item.issue
    title = item.snapshot_title or issue.title
    return {"repository": issue.repository.full_name, "number": issue.number, "title": title}


def _with_records(rows):
    """Load the final records of the settled rows' final labels in one query (not one per
    row), each with its dimension and category, in record and dimension order."""
    settled = [row for row, _ in rows if row.state == Item.State.SETTLED]
    records = FinalRecordLabel.objects.select_related("dimension", "category")
    prefetch_related_objects(settled, Prefetch("final_label__labels", records))
    return rows


def _final(item) -> dict | None:
    final = getattr(item, "final_label", None)
    if item.state != Item.State.SETTLED or final is None:
        return None
    return {
        "provenance": final.provenance,
        "out_of_scope": final.out_of_scope,
        "rationale": final.rationale,
        "records": to_wire(final.labels.all()),  # prefetched with the rows (_with_records)
    }


class SimilarItemsView(ProjectScoped, APIView):
    # A ranked list of at most MAX_LIMIT rows, not a page of a collection: the schema must
    # not describe it as paginated (it answered off-schema under the API fuzzer).
    pagination_class = None

    @extend_schema(
        operation_id="item_similar",
        summary="The project's items most like this one, best first",
        parameters=[OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT}; 10.")],
        responses={200: serializers.SimilarItemSerializer(many=True), **ERRORS},
    )
    def get(self, request, slug, item_id):
        item = get_item_for_user(request.user, self.project, item_id, membership=self.membership)
        if not may_see_precedents(request.user, self.membership, item):
            raise PermissionDenied("Similar items show once your own annotation is in.")
        raw = request.query_params.get("limit", "10")
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationError({"limit": [f"A whole number from 1 to {MAX_LIMIT}."]})
        among, items = similar_item_scope(self.project, self.membership)
        among = among.exclude(pk=item.issue_id)
        rows = _with_records(ranked_items(self.project, item.issue_id, among, int(raw), 0.0, items))
        payload = [
            {
                "item": row.pk,
                "issue": _issue(row),
                "score": similar.score,
                "title_similarity": similar.title,
                "trace_similarity": similar.trace,
                "same_error": similar.same_error,
                "settled": row.state == Item.State.SETTLED,
                "final_label": _final(row),
            }
            for row, similar in rows
        ]
        return Response(serializers.SimilarItemSerializer(payload, many=True).data)


class DuplicateGroupsView(ProjectScoped, APIView):
    roles = MANAGERS

    @extend_schema(
        operation_id="duplicate_groups",
        summary="Groups of near-duplicate items (similar text or GitHub's duplicate marker)",
        parameters=[THRESHOLD],
        responses={200: serializers.DuplicateGroupsSerializer, **ERRORS},
    )
    def get(self, request, slug):
        threshold = _threshold(request)
        groups = item_duplicate_groups(project=self.project, threshold=threshold)
        issue_ids = {pk for group in groups for pk in group.members}
        items = project_items(self.project).filter(issue_id__in=issue_ids)
        by_issue = {i.issue_id: i for i in items.select_related("issue__repository")}
        payload = {
            "threshold": threshold,
            "groups": [
                {
                    "representative": by_issue[group.representative].pk,
                    "reasons": group.reasons,
                    "score": group.score,
                    "members": [
                        {"item": by_issue[pk].pk, "issue": _issue(by_issue[pk])}
                        for pk in group.members
                    ],
                }
                for group in groups
            ],
        }
        return Response(serializers.DuplicateGroupsSerializer(payload).data)


class ConsistencyView(ProjectScoped, APIView):
    roles = MANAGERS

    @extend_schema(
        operation_id="consistency_report",
        summary="Near-duplicate settled items whose final labels differ, per dimension",
        parameters=[THRESHOLD],
        responses={200: serializers.ConsistencySerializer, **ERRORS},
    )
    def get(self, request, slug):
        report = consistency_report(project=self.project, threshold=_threshold(request))
        payload = {
            "threshold": report.threshold,
            "settled": report.settled,
            "pairs": report.pairs,
            "differing": len(report.differing),
            "share_differing": report.share_differing,
            "by_dimension": report.by_dimension,
            "results": [
                {
                    "first": pair.first.pk,
                    "second": pair.second.pk,
                    "score": pair.score,
                    "confirmed": pair.confirmed is not None,
                    "differences": {
                        key: {"first": a, "second": b} for key, (a, b) in pair.differences.items()
                    },
                }
                for pair in report.differing
            ],
        }
        return Response(serializers.ConsistencySerializer(payload).data)
