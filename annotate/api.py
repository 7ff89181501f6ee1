"""Generic REST resources: projects, members, codebook, issues, items, annotations, final
labels, export, import and releases. Every lookup is scoped through annotate.access.

Error replies all look alike: ``{"detail": ..., "code": ..., "fields": {field: [messages]}}``
(`fields` is empty except on 400). Lists use cursor pagination on `id`.
"""

from __future__ import annotations

import os
import re
import traceback

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.db.models import F, Prefetch
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import (
    APIException,
    NotFound,
    ParseError,
    PermissionDenied,
    ValidationError,
)
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from mining.access import ProjectGroups, TextAccess
from mining.models import Comment, Issue, project_view

from . import codebook, filters, import_jobs, labeling, releases, services
from . import serializers as s
from .access import (
    ALL_ROLES,
    MANAGERS,
    OWNERS,
    check_can_create_projects,
    find_annotator,
    get_import_job_for_user,
    get_invitation_for_owner,
    get_item_for_user,
    get_project_for_user,
)
from .exporting import CONTENT_TYPES, filename, pseudonym, stream_export
from .importing import ImportFailed
from .models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Category,
    FinalLabel,
    FinalRecordLabel,
    Invitation,
    Item,
    Project,
    Release,
    Role,
)
from .queries import codebook_data

ERRORS = {
    400: OpenApiResponse(s.ApiErrorSerializer, description="Invalid input, messages per field."),
    401: OpenApiResponse(s.ApiErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(s.ApiErrorSerializer, description="Your role does not allow this."),
    404: OpenApiResponse(s.ApiErrorSerializer, description="No such project (or object)."),
}
CONFLICT = {409: OpenApiResponse(s.ApiErrorSerializer, description="It exists already.")}


def listing(serializer):
    """Schema of a paginated list endpoint, with its error replies."""
    return extend_schema_view(get=extend_schema(responses={200: serializer(many=True), **ERRORS}))


def _fields(detail) -> dict:
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(m) for m in detail]}
    return {"non_field_errors": [str(detail)]}


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _unreadable_body(exc):
    """A 4xx for a request body that Django or the JSON decoder refuses to read (too big,
    too many fields, nested too deeply), which would otherwise be a bare 400 page or a 500."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        return BodyTooLarge(f"The request body is over the limit of {limit:.1f} MB.")
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return ParseError(str(exc))
    parsing = any(
        frame.filename.endswith(os.path.join("rest_framework", "parsers.py"))
        for frame in traceback.extract_tb(exc.__traceback__)
    )
    if isinstance(exc, RecursionError) and parsing:
        return ParseError("The JSON body is nested too deeply to read.")
    return None


class ConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "gone"


class DatabaseUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The database connection was lost; retry the request in a moment."


def exception_handler(exc, context):
    """DRF's handler, with every error body shaped as {detail, code, fields}.

    Install project-wide with REST_FRAMEWORK["EXCEPTION_HANDLER"] =
    "annotate.api.exception_handler"; the views here use it already."""
    if isinstance(exc, services.Conflict):
        exc = ConflictError(str(exc))
    if isinstance(exc, services.InvitationGone):
        exc = Gone(str(exc))
    if isinstance(exc, services.ServiceError):
        exc = ValidationError({"non_field_errors": [str(exc)]})
    if isinstance(exc, OperationalError | InterfaceError):
        # A database restart or failover: a clear, retryable 503 rather than a 500 page (the
        # transaction rolled back; Django drops the broken connection when the request ends).
        exc = DatabaseUnavailable()
    exc = _unreadable_body(exc) or exc
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        body = {"detail": "Invalid input.", "code": "invalid", "fields": _fields(exc.detail)}
        if set(body["fields"]) == {"non_field_errors"}:
            body["detail"] = " ".join(body["fields"]["non_field_errors"])
    else:
        detail = getattr(exc, "detail", response.data.get("detail", ""))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"detail": str(detail), "code": str(code), "fields": {}}
    response.data = body
    if isinstance(exc, DatabaseUnavailable):
        response["Retry-After"] = "1"
    return response


# A cursor's position is an id (PostgreSQL bigint); anything else was forged.
_POSITION = re.compile(r"^[0-9]{1,18}$")


class IdCursorPagination(CursorPagination):
    """Cursor pagination on the primary key: stable under inserts. A cursor that is not one
    this class wrote (garbage, or base64 of a position that is not an id) answers 400."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ParseError("Invalid cursor: use the 'next' or 'previous' link.") from None
        if cursor is not None and cursor.position is not None:
            if not _POSITION.match(cursor.position):
                raise ParseError("Invalid cursor: its position is not an id.")
        return cursor


class ApiMixin:
    """House rules for every view here: our error bodies, cursor pagination, JSON."""

    pagination_class = IdCursorPagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def get_exception_handler(self):
        return exception_handler


class ProjectScoped(ApiMixin):
    """Resolves `self.project` and `self.membership` from the URL's slug through access,
    before anything else: non-members get 404, roles outside `roles` 403."""

    roles = ALL_ROLES

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.project, self.membership = get_project_for_user(
            request.user, kwargs["slug"], roles=self.roles
        )

    def faking(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "project", None) is not None:
            context["groups"] = ProjectGroups(self.project)
            context["text_access"] = TextAccess(self.project)
        return context


# --- projects and members ----------------------------------------------------------------


@listing(s.ProjectSerializer)
class ProjectList(ApiMixin, generics.ListCreateAPIView):
    """The caller's projects; POST creates one with the caller as its owner (staff only,
    unless settings.PROJECT_CREATION is "everyone")."""

    serializer_class = s.ProjectSerializer
    queryset = Project.objects.none()

    def get_queryset(self):
        return Project.objects.filter(memberships__user=self.request.user).annotate(
            role=F("memberships__role")
        )

    @extend_schema(
        request=s.ProjectCreateSerializer,
        responses={201: s.ProjectSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, *args, **kwargs):
        check_can_create_projects(request.user)
        form = s.ProjectCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        project = services.create_project(owner=request.user, **form.validated_data)
        project.role = Role.OWNER
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: s.ProjectSerializer, **ERRORS})
class ProjectDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = s.ProjectSerializer

    def get(self, request, slug):
        self.project.role = self.membership.role
        return Response(s.ProjectSerializer(self.project).data)


class GitHubTokenDetail(ProjectScoped, APIView):
    """Owners set, replace (PUT) or clear (DELETE) the project's own GitHub token. It is
    stored encrypted and never returned: replies say only whether one is set."""

    roles = OWNERS

    @extend_schema(
        request=s.GitHubTokenSerializer, responses={200: s.GitHubTokenStateSerializer, **ERRORS}
    )
    def put(self, request, slug):
        form = s.GitHubTokenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.set_github_token(project=self.project, token=form.validated_data["token"])
        return Response({"github_token_set": self.project.has_github_token})

    @extend_schema(responses={200: s.GitHubTokenStateSerializer, **ERRORS})
    def delete(self, request, slug):
        services.set_github_token(project=self.project, token="")
        return Response({"github_token_set": False})


@listing(s.MemberSerializer)
class MemberList(ProjectScoped, generics.ListAPIView):
    """Members of the project; owners add people by invitation (the invitee accepts)."""

    serializer_class = s.MemberSerializer
    queryset = Project.objects.none()

    def get_queryset(self):
        return self.project.memberships.select_related("user")

    @extend_schema(
        request=s.MemberCreateSerializer,
        responses={201: s.InvitationCreatedSerializer, **ERRORS, **CONFLICT},
        description="Invites `username` with `role`: a single-use link the invitee opens to "
        "join (signing up if they have no account). The reply is the same whether an account "
        "of that name exists or not, and nobody becomes a member without accepting.",
    )
    def post(self, request, slug):
        if self.membership.role != Role.OWNER:
            raise PermissionDenied("Only owners manage members.")
        form = s.MemberCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return invitation_reply(request, self.project, form.validated_data)


def invitation_reply(request, project, data) -> Response:
    invitation, token = services.invite_member(project=project, created_by=request.user, **data)
    invitation.url = request.build_absolute_uri(reverse("invitation", args=[token]))
    return Response(s.InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)


@listing(s.InvitationSerializer)
class InvitationList(ProjectScoped, generics.ListAPIView):
    """Owners list the project's pending invitations and create new ones."""

    roles = OWNERS
    serializer_class = s.InvitationSerializer
    queryset = Invitation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Invitation.objects.none()
        return self.project.invitations.pending().select_related("created_by")

    @extend_schema(
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationCreatedSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, slug):
        form = s.InvitationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return invitation_reply(request, self.project, form.validated_data)


class InvitationDetail(ProjectScoped, APIView):
    """Owners revoke a pending invitation (its link stops working)."""

    roles = OWNERS

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, slug, invitation_id):
        invitation = get_invitation_for_owner(request.user, self.project, invitation_id)
        services.revoke_invitation(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetail(ProjectScoped, generics.GenericAPIView):
    """Owners change a member's role or remove them; the last owner stays."""

    roles = OWNERS
    serializer_class = s.MemberSerializer

    def member(self, membership_id):
        return get_object_or_404(self.project.memberships.select_related("user"), pk=membership_id)

    @extend_schema(request=s.RoleSerializer, responses={200: s.MemberSerializer, **ERRORS})
    def patch(self, request, slug, membership_id):
        self.member(membership_id)
        form = s.RoleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.change_role(
            project=self.project, membership_id=membership_id, role=form.validated_data["role"]
        )
        return Response(s.MemberSerializer(self.member(membership_id)).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, slug, membership_id):
        self.member(membership_id)
        services.remove_member(project=self.project, membership_id=membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- codebook ------------------------------------------------------------------------------


@extend_schema(responses={200: s.CodebookSerializer, **ERRORS})
class CodebookDetail(ProjectScoped, APIView):
    """Dimensions with their category trees and the codebook's version."""

    def get(self, request, slug):
        return Response(codebook_data(self.project))


class CategoryDetail(ProjectScoped, APIView):
    """Owners and leads edit a category's name, description and examples (merge and split
    belong to adjudication)."""

    roles = MANAGERS

    @extend_schema(
        request=s.CategoryEditSerializer, responses={200: s.CategoryNodeSerializer, **ERRORS}
    )
    def patch(self, request, slug, category_id):
        category = get_object_or_404(
            Category.objects.filter(dimension__project=self.project), pk=category_id
        )
        form = s.CategoryEditSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if "name" in data and data["name"] != category.name:
            category = codebook.rename_category(
                project=self.project, actor=request.user, category=category, name=data["name"]
            )
        if "description" in data or "examples" in data:
            category = codebook.edit_category(
                project=self.project,
                actor=request.user,
                category=category,
                description=data.get("description", category.description),
                examples=data.get("examples"),
            )
        data = {**{f: getattr(category, f) for f in ("id", "name", "path", "depth")}}
        data.update(description=category.description, examples=category.examples)
        data.update(retired=category.retired, children=[])
        return Response(data)


# --- issues and items ----------------------------------------------------------------------


@listing(s.IssueSerializer)
class IssueList(ProjectScoped, generics.ListAPIView):
    """Issues of the project's items."""

    serializer_class = s.IssueSerializer
    filterset_class = filters.IssueFilter
    queryset = Issue.objects.none()

    def get_queryset(self):
        if self.faking():
            return Issue.objects.none()
        issues = Issue.objects.filter(items__project=self.project).select_related("repository")
        return issues.annotate(
            project_group=project_view("group", project=self.project, repository="repository_id")
        )


@extend_schema(responses={200: s.IssueSerializer, **ERRORS})
class IssueDetail(ProjectScoped, generics.RetrieveAPIView):
    serializer_class = s.IssueSerializer
    lookup_url_kwarg = "issue_id"
    queryset = Issue.objects.none()

    def get_queryset(self):
        if self.faking():
            return Issue.objects.none()
        return Issue.objects.filter(items__project=self.project).select_related("repository")


@listing(s.CommentSerializer)
class CommentList(ProjectScoped, generics.ListAPIView):
    serializer_class = s.CommentSerializer
    queryset = Comment.objects.none()

    def get_queryset(self):
        if self.faking():
            return Comment.objects.none()
        issue = get_object_or_404(
            Issue.objects.filter(items__project=self.project), pk=self.kwargs["issue_id"]
        )
        return TextAccess(self.project).comments(issue)


@listing(s.ItemSerializer)
class ItemList(ProjectScoped, generics.ListAPIView):
    """The project's items (annotators: those they were assigned, in the state they may see)."""

    serializer_class = s.ItemSerializer
    filterset_class = filters.ItemFilter
    queryset = Item.objects.none()

    def get_queryset(self):
        if self.faking():
            return Item.objects.none()
        items = Item.objects.filter(project=self.project).select_related("issue__repository")
        if self.membership.role == Role.ANNOTATOR:
            items = items.filter(assignments__annotator=self.request.user)
        shown = labeling.shown_state(user=self.request.user, role=self.membership.role)
        return items.annotate(shown_state=shown)


@extend_schema(responses={200: s.ItemSerializer, **ERRORS})
class ItemDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = s.ItemSerializer

    def get(self, request, slug, item_id):
        item = get_item_for_user(request.user, self.project, item_id)
        item.shown_state = labeling.shown_state_of(
            item, user=request.user, role=self.membership.role
        )
        return Response(s.ItemSerializer(item, context=self.get_serializer_context()).data)


# --- annotations and final labels ----------------------------------------------------------

LABELS = Prefetch(
    "labels", queryset=AnnotationLabel.objects.select_related("dimension", "category")
)
FINAL_LABELS = Prefetch(
    "labels", queryset=FinalRecordLabel.objects.select_related("dimension", "category")
)


@listing(s.AssignmentSerializer)
class MyAssignmentList(ProjectScoped, generics.ListAPIView):
    """The caller's own assignments in the project."""

    serializer_class = s.AssignmentSerializer
    queryset = Assignment.objects.none()

    def get_queryset(self):
        return Assignment.objects.filter(item__project=self.project, annotator=self.request.user)


@listing(s.AnnotationSerializer)
class MyAnnotationList(ProjectScoped, generics.ListAPIView):
    """The caller's own annotations: never anyone else's."""

    serializer_class = s.AnnotationSerializer
    filterset_class = filters.MyAnnotationFilter
    queryset = Annotation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Annotation.objects.none()
        return (
            Annotation.objects.filter(item__project=self.project, annotator=self.request.user)
            .select_related("annotator")
            .prefetch_related(LABELS)
        )


@listing(s.AnnotationSerializer)
class AnnotationList(ProjectScoped, generics.ListAPIView):
    """Every annotation of the project: leads and owners only. With the project's
    `hide_annotator_names`, leads see pseudonyms."""

    roles = MANAGERS
    serializer_class = s.AnnotationSerializer
    filterset_class = filters.AnnotationFilter
    queryset = Annotation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Annotation.objects.none()
        annotations = Annotation.objects.filter(item__project=self.project)
        name = self.request.query_params.get("annotator")
        if name:
            annotator = find_annotator(self.project, self.membership, name)
            annotations = (
                annotations.filter(annotator=annotator) if annotator else annotations.none()
            )
        return annotations.select_related("annotator").prefetch_related(LABELS)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not self.faking() and self.project.hide_annotator_names:
            if self.membership.role != Role.OWNER:
                context["annotator_names"] = lambda user: pseudonym(self.project.pk, user.pk)
        return context


@listing(s.FinalLabelSerializer)
class FinalLabelList(ProjectScoped, generics.ListAPIView):
    """Final labels with provenance (settled items only)."""

    serializer_class = s.FinalLabelSerializer
    filterset_class = filters.FinalLabelFilter
    queryset = FinalLabel.objects.none()

    def get_queryset(self):
        if self.faking():
            return FinalLabel.objects.none()
        return (
            FinalLabel.objects.filter(item__project=self.project, item__state=Item.State.SETTLED)
            .select_related("item__issue__repository", "decided_by")
            .prefetch_related(FINAL_LABELS)
        )


# --- export, import, releases --------------------------------------------------------------


class ExportView(ProjectScoped, APIView):
    """The dataset, streamed. `labels=all` (every annotator's labels under pseudonyms)
    is for leads and owners."""

    def perform_content_negotiation(self, request, force=False):
        # `format` here names the dataset format, not DRF's renderer override.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        parameters=[s.ExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object"}}, description="olf"
            ),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="jsonl"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="csv"),
            **ERRORS,
        },
    )
    def get(self, request, slug):
        query = s.ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, labels = query.validated_data["format"], query.validated_data["labels"]
        if labels == "all" and self.membership.role not in MANAGERS:
            raise PermissionDenied("Only leads and owners export every annotator's labels.")
        response = StreamingHttpResponse(
            (chunk.encode() for chunk in stream_export(self.project, fmt, labels)),
            content_type=f"{CONTENT_TYPES[fmt]}; charset=utf-8",
        )
        name = filename(self.project, fmt, labels)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ImportBusyError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "import_running"


class ImportView(ProjectScoped, APIView):
    """Owners import files (olf, JSONL, CSV) as a job run by a Celery worker: 202 with the
    job (poll its `url`); all or nothing, idempotent. One import per project at a time."""

    roles = OWNERS
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.ImportSerializer},
        responses={202: s.ImportJobSerializer, 409: ERRORS[400], **ERRORS},
    )
    def post(self, request, slug):
        form = s.ImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            job = import_jobs.start_import_job(
                project=self.project,
                user=request.user,
                files=data["files"],
                fmt=data["format"],
                labels=data["labels"],
                add_categories=data["add_categories"],
                group=data.get("group") or "",
            )
        except ImportFailed as error:
            raise ValidationError({"files": [f"Nothing imported. {error}"]}) from error
        except import_jobs.ImportBusy as error:
            raise ImportBusyError(str(error)) from error
        body = s.ImportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.ImportJobSerializer, **ERRORS})
class ImportJobDetail(ApiMixin, generics.GenericAPIView):
    """An import job's status, progress and outcome (owners)."""

    serializer_class = s.ImportJobSerializer

    def get(self, request, slug, import_id):
        _, _, job = get_import_job_for_user(request.user, slug, import_id)
        return Response(s.ImportJobSerializer(job, context={"request": request}).data)


@listing(s.ReleaseSerializer)
class ReleaseList(ProjectScoped, generics.ListAPIView):
    """The project's releases; owners create one (an immutable snapshot)."""

    serializer_class = s.ReleaseSerializer
    queryset = Release.objects.none()

    def get_queryset(self):
        if self.faking():
            return Release.objects.none()
        return self.project.releases.select_related("project", "created_by")

    @extend_schema(
        request=s.ReleaseCreateSerializer, responses={201: s.ReleaseSerializer, **ERRORS}
    )
    def post(self, request, slug):
        if self.membership.role != Role.OWNER:
            raise PermissionDenied("Only owners publish releases.")
        form = s.ReleaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        release = releases.create_release(
            project=self.project,
            user=request.user,
            version=form.validated_data.get("version", ""),
            title=form.validated_data["title"],
        )
        return Response(s.ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)


def get_release(project: Project, version: str) -> Release:
    try:
        return project.releases.select_related("project", "created_by").get(version=version)
    except Release.DoesNotExist:
        raise Http404("No such release.") from None


@extend_schema(responses={200: s.ReleaseSerializer, **ERRORS})
class ReleaseDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = s.ReleaseSerializer

    def get(self, request, slug, version):
        return Response(s.ReleaseSerializer(get_release(self.project, version)).data)


class ReleaseDownload(ProjectScoped, APIView):
    @extend_schema(
        responses={(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY), **ERRORS}
    )
    def get(self, request, slug, version):
        release = get_release(self.project, version)
        return FileResponse(
            release.archive.open("rb"),
            as_attachment=True,
            filename=f"{self.project.slug}-{release.version}.zip",
            content_type="application/zip",
        )
