"""Labeling API: the queue, submissions, skips, the caller's own annotation and progress.

Every lookup goes through annotate.access; annotators only ever get their own labels. Errors
are raised: annotate.api.base's exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]) writes
the one error body."""

from itertools import chain

from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import get_item_for_user as access_item
from annotate.access import get_project_for_user, readable_final_label, sees_assigned_items_only
from annotate.adjudication.api import ItemAnnotationsReadMixin
from annotate.api.base import CONFLICT, ERRORS, ConflictError
from annotate.labeling.errors import (
    ItemClosedError,
    ItemNotFoundError,
    LabelingError,
    NotAssignedError,
)
from annotate.labeling.own_labels import compare_with_final, own_annotation, own_records
from annotate.labeling.queue import next_item, skip_item
from annotate.labeling.serializers import (
    AnnotationInputSerializer,
    AnnotationOutputSerializer,
    ProgressOutputSerializer,
    QueueItemSerializer,
    SkipInputSerializer,
    SkipOutputSerializer,
)
from annotate.labeling.shown import annotator_progress, project_progress
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, FinalRecordLabel, Item
from annotate.records import to_wire
from mining.access import TextAccess, project_group

FINAL_LABELS = Prefetch("labels", FinalRecordLabel.objects.select_related("dimension", "category"))


def api_error(error: LabelingError) -> APIException:
    """The API's error for a labeling error: 404, 403, 409 or 400 by its kind (the exception
    handler writes the body)."""
    if isinstance(error, ItemNotFoundError):
        return NotFound(str(error))
    if isinstance(error, NotAssignedError):
        return PermissionDenied(str(error))
    if isinstance(error, ItemClosedError):
        return ConflictError(str(error))
    return ValidationError({"non_field_errors": [str(error)]})


def queue_item_payload(item: Item, codebook_url: str) -> dict:
    """The item as the annotator labels it. The codebook is not repeated here: clients
    fetch `codebook_url` once and again only when `codebook_version` changes."""
    access = TextAccess(item.project)
    issue = access.hide_item(item).issue
    return {
        "id": item.pk,
        "calibration": item.calibration,
        "batch": item.batch,
        "title": item.snapshot_title or issue.title,
        "body": item.snapshot_body or issue.body,
        "url": issue.html_url,
        "repo": issue.repository.full_name,
        "group": (
            item.project_group or ""
            if hasattr(item, "project_group")
            else project_group(item.project_id, issue.repository_id)
        ),
        "number": issue.number,
        "issue_state": issue.state,
        "labels": issue.labels,
        "created_at": issue.created_at,
        "comments": list(access.comments(issue).values("author", "body", "created_at")),
        "expires_at": item.assignment.expires_at,
        "codebook_version": item.project.codebook_version,
        "codebook_url": codebook_url,
    }


def annotation_payload(annotation: Annotation) -> dict:
    """The caller's own annotation, plus the final label once (and only once) settled."""
    item = annotation.item
    final = readable_final_label(item)
    comparison = compare_with_final(annotation, final)
    return {
        "item": item.pk,
        "out_of_scope": annotation.out_of_scope,
        "out_of_scope_reason": annotation.out_of_scope_reason,
        "note": annotation.note,
        "confidence": annotation.confidence,
        "codebook_version": annotation.codebook_version,
        "round": annotation.round,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
        "records": to_wire(chain.from_iterable(own_records(annotation))),
        "settled": comparison is not None,
        "final": comparison
        and {
            "provenance": final.provenance,
            "out_of_scope": final.out_of_scope,
            "records": comparison["final"],
            "differences": comparison["differences"],
        },
    }


class QueueNextView(APIView):
    @extend_schema(
        operation_id="queue_next",
        summary="The caller's next item to label",
        description=(
            "Assigns the caller an item that still needs annotators (the one they already "
            "hold, if any) and returns it; 204 when none is left. The reply names the "
            "codebook's version and URL instead of carrying it: fetch "
            "`GET /api/projects/{slug}/codebook/` once, and again when `codebook_version` "
            "differs from the copy you hold."
        ),
        request=None,
        responses={200: QueueItemSerializer, 204: OpenApiResponse(description="Nothing left.")},
    )
    def post(self, request, slug):
        project, _ = get_project_for_user(request.user, slug)
        item = next_item(project=project, user=request.user)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        item.project = project
        codebook_url = request.build_absolute_uri(reverse("api-codebook", args=[project.slug]))
        return Response(QueueItemSerializer(queue_item_payload(item, codebook_url)).data)


class AnnotationSubmitView(ItemAnnotationsReadMixin, APIView):
    # GET (every annotation, leads and owners) comes from adjudication's mixin: one path,
    # one view.
    @extend_schema(
        operation_id="annotation_submit",
        summary="Submit (or replace) the caller's annotation of an item",
        description=(
            "Categories are named by id or by full path. Allowed until the item is settled "
            "or goes to adjudication. Returns the caller's annotation."
        ),
        request=AnnotationInputSerializer,
        responses={200: AnnotationOutputSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, slug, item_id):
        project, membership = get_project_for_user(request.user, slug)
        form = AnnotationInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            # The service looks the item up under its row lock, with access's rule: an
            # annotator who holds no assignment of it gets 404, as from access.
            annotation = submit_annotation(
                project=project,
                user=request.user,
                item=item_id,
                unassigned_is_missing=sees_assigned_items_only(membership),
                records=form.service_records(),
                out_of_scope=form.validated_data["out_of_scope"],
                out_of_scope_reason=form.validated_data["out_of_scope_reason"],
                note=form.validated_data["note"],
                confidence=form.validated_data["confidence"],
                active_seconds=form.validated_data["active_seconds"],
            )
        except LabelingError as error:
            raise api_error(error) from error
        # The reply is built from what the submission wrote; only an item this submission
        # settled needs a read, for its final label's records.
        if annotation.item.state == Item.State.SETTLED:
            prefetch_related_objects([annotation.item.final_label], FINAL_LABELS)
        return Response(AnnotationOutputSerializer(annotation_payload(annotation)).data)


class SkipView(APIView):
    @extend_schema(
        operation_id="item_skip",
        summary="Skip the caller's item, with a reason",
        request=SkipInputSerializer,
        responses={200: SkipOutputSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, slug, item_id):
        project, membership = get_project_for_user(request.user, slug)
        item = access_item(request.user, project, item_id, membership=membership)
        form = SkipInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        reason = form.validated_data["reason"]
        try:
            skip_item(project=project, user=request.user, item=item, reason=reason)
        except LabelingError as error:
            raise api_error(error) from error
        return Response(
            SkipOutputSerializer({"item": item.pk, "skipped": True, "reason": reason}).data
        )


class MyAnnotationView(APIView):
    @extend_schema(
        operation_id="annotation_mine",
        summary="The caller's own annotation of an item",
        description="Never anyone else's; the final label is included once the item is settled.",
        responses={200: AnnotationOutputSerializer, 404: ERRORS[404]},
    )
    def get(self, request, slug, item_id):
        project, membership = get_project_for_user(request.user, slug)
        item = access_item(request.user, project, item_id, membership=membership)
        annotation = own_annotation(item=item, user=request.user)
        if annotation is None:
            raise NotFound("You have not annotated this item.")
        return Response(AnnotationOutputSerializer(annotation_payload(annotation)).data)


class ProgressView(APIView):
    @extend_schema(
        operation_id="labeling_progress",
        summary="The caller's labeling progress and the project's",
        responses={200: ProgressOutputSerializer},
    )
    def get(self, request, slug):
        project, membership = get_project_for_user(request.user, slug)
        data = {
            "mine": annotator_progress(project=project, user=request.user),
            "project": project_progress(project=project, role=membership.role),
        }
        return Response(ProgressOutputSerializer(data).data)
