"""Adjudication over REST: a lead's decision, the conflict queue, an item's annotations
and its audit trail. Leads and owners only; annotators get 403, outsiders 404. Errors are
raised: annotate.api.base's exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]) writes the
one error body."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    MANAGERS,
    annotator_aliases,
    get_managed_item,
    get_project_for_user,
    side_letter,
)
from annotate.adjudication.conflicts import (
    conflict_counts,
    conflict_queue,
    open_differences,
    parse_pair,
)
from annotate.adjudication.decisions import decide_item, parse_records
from annotate.adjudication.serializers import (
    AuditEventSerializer,
    ConflictListSerializer,
    DecisionInputSerializer,
    DecisionSerializer,
    ItemAnnotationsSerializer,
)
from annotate.errors import ServiceError
from annotate.models import Annotation, AnnotationRound, AuditEvent, FinalLabel
from annotate.records import to_wire
from mining.access import hide_unreadable

MAX_LIMIT = 500
MAX_OFFSET = 10**9


class AdjudicationView(APIView):
    @extend_schema(
        operation_id="item_adjudication_read",
        summary="An item's current final label (404 when none yet)",
        responses={200: DecisionSerializer},
    )
    def get(self, request, slug, item_id):
        _, _, item = get_managed_item(request.user, slug, item_id)
        final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
        if final is None:
            raise NotFound("No final label yet.")
        return Response(DecisionSerializer(final).data)

    @extend_schema(
        operation_id="item_adjudication_decide",
        summary="A lead's final decision on an item in conflict or discussion",
        request=DecisionInputSerializer,
        responses={201: DecisionSerializer},
    )
    def post(self, request, slug, item_id):
        project, _, item = get_managed_item(request.user, slug, item_id)
        data = DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = data.validated_data
        try:
            records = parse_records(
                project=project,
                raw_records=[] if decision["out_of_scope"] else decision["records"],
            )
            final = decide_item(
                item=item,
                actor=request.user,
                records=records,
                out_of_scope=decision["out_of_scope"],
                out_of_scope_reason=decision["out_of_scope_reason"],
                rationale=decision["rationale"],
                error_kind=decision["error_kind"],
                codebook_needs_work=decision["codebook_needs_work"],
            )
        except ServiceError as error:
            raise ValidationError({"non_field_errors": [str(error)]}) from error
        return Response(DecisionSerializer(final).data, status=status.HTTP_201_CREATED)


class ConflictListView(APIView):
    @extend_schema(
        operation_id="conflict_queue",
        summary="Items in conflict, oldest waiting first, with their differences",
        parameters=[
            OpenApiParameter("dimension", str, description="A dimension key."),
            OpenApiParameter("pair", str, description="Two category ids, 'ID,ID'."),
            OpenApiParameter("repository", str, description="owner/name"),
            OpenApiParameter("group", str, description="A repository group."),
            OpenApiParameter("limit", int, description=f"At most {MAX_LIMIT}; 100 by default."),
            OpenApiParameter("offset", int),
        ],
        responses={200: ConflictListSerializer},
    )
    def get(self, request, slug):
        project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
        params = request.query_params
        queue = conflict_queue(
            project,
            dimension=params.get("dimension") or None,
            pair=parse_pair(params.get("pair")),
            repository=params.get("repository") or None,
            group=params.get("group") or None,
        )
        limit = min(_bounded(params, "limit", 100), MAX_LIMIT)
        offset = _bounded(params, "offset", 0)
        items = list(queue[offset : offset + limit])
        hide_unreadable(project, items)
        counts = conflict_counts(project)
        payload = {
            "count": queue.count(),
            "total": counts["total"],
            "by_dimension": counts["by_dimension"],
            "results": items,
        }
        context = {"differences": open_differences(items)}
        return Response(ConflictListSerializer(payload, context=context).data)


def _bounded(params, name: str, default: int) -> int:
    """A non-negative integer query parameter (a default when absent or not a number);
    past MAX_OFFSET, 400: such an offset names nothing and overflows PostgreSQL's bigint."""
    value = params.get(name)
    try:
        number = max(int(value), 0)
    except (TypeError, ValueError):
        return default
    if number > MAX_OFFSET:
        raise ValidationError({name: [f"Must be at most {MAX_OFFSET:,}."]})
    return number


def _round_data(row) -> dict:
    return {
        "round": row.round,
        "out_of_scope": row.out_of_scope,
        "out_of_scope_reason": row.out_of_scope_reason,
        "note": row.note,
        "confidence": row.confidence,
        "records": to_wire(row.labels.all()),
    }


class ItemAnnotationsReadMixin:
    """GET for /api/projects/{slug}/items/{id}/annotations/. The labeling API's POST view
    owns that path; it mixes this in so that one view answers both methods."""

    @extend_schema(
        operation_id="item_annotations_read",
        summary="Every annotation of an item (and earlier rounds), for leads and owners",
        responses={200: ItemAnnotationsSerializer},
    )
    def get(self, request, slug, item_id):
        project, _, item = get_managed_item(request.user, slug, item_id)
        labels = "labels__dimension", "labels__category"
        annotations = (
            Annotation.objects.filter(item=item)
            .select_related("annotator")
            .prefetch_related(*labels)
            .order_by("created_at", "id")
        )
        rounds: dict[int, list] = {}
        for row in AnnotationRound.objects.filter(item=item).prefetch_related(*labels):
            rounds.setdefault(row.annotation_id, []).append(_round_data(row))
        result = []
        for index, annotation in enumerate(annotations):
            name = annotation.annotator.username
            if project.hide_annotator_names:
                name = side_letter(index)
            result.append(
                {
                    **_round_data(annotation),
                    "id": annotation.pk,
                    "annotator": name,
                    "codebook_version": annotation.codebook_version,
                    "submitted_at": annotation.updated_at,
                    "earlier_rounds": rounds.get(annotation.pk, []),
                }
            )
        final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
        payload = {
            "item": item.pk,
            "state": item.state,
            "discussed": item.discussed,
            "annotations": result,
            "final": final,
        }
        return Response(ItemAnnotationsSerializer(payload).data)


class ItemHistoryView(APIView):
    @extend_schema(
        operation_id="item_history",
        summary="An item's append-only audit trail, oldest first",
        responses={200: AuditEventSerializer(many=True)},
    )
    def get(self, request, slug, item_id):
        _, _, item = get_managed_item(request.user, slug, item_id)
        events = AuditEvent.objects.filter(item=item).select_related("actor")
        context = {"aliases": annotator_aliases(item)}
        return Response(AuditEventSerializer(events, many=True, context=context).data)
