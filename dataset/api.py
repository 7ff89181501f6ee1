"""REST resources of publishing: the export stream, imports and their jobs, releases."""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import (
    APIException,
    ValidationError,
)
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    MANAGERS,
    OWNERS,
    get_import_job_for_user,
    get_release,
    project_releases,
    require_role,
)
from annotate.api.base import ERRORS, ApiMixin, ProjectScoped, listing
from annotate.models import (
    Release,
)
from dataset import import_jobs, releases
from dataset.exporting import CONTENT_TYPES, filename, stream_export
from dataset.importing import ImportFailed
from dataset.serializers import (
    ExportQuerySerializer,
    ImportJobSerializer,
    ImportSerializer,
    ReleaseCreateSerializer,
    ReleaseSerializer,
)


class ExportView(ProjectScoped, APIView):
    """The dataset, streamed. `labels=all` (every annotator's labels under pseudonyms)
    is for leads and owners."""

    def perform_content_negotiation(self, request, force=False):
        # `format` here names the dataset format, not DRF's renderer override.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        parameters=[ExportQuerySerializer],
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
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, labels = query.validated_data["format"], query.validated_data["labels"]
        if labels == "all":
            require_role(
                self.membership, MANAGERS, "Only leads and owners export every annotator's labels."
            )
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
        request={"multipart/form-data": ImportSerializer},
        responses={202: ImportJobSerializer, 409: ERRORS[400], **ERRORS},
    )
    def post(self, request, slug):
        form = ImportSerializer(data=request.data)
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
                group_map=data.get("group_map") or "",
            )
        except ImportFailed as error:
            field = getattr(error, "field", "files")
            raise ValidationError({field: [f"Nothing imported. {error}"]}) from error
        except import_jobs.ImportBusy as error:
            raise ImportBusyError(str(error)) from error
        body = ImportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: ImportJobSerializer, **ERRORS})
class ImportJobDetail(ApiMixin, generics.GenericAPIView):
    """An import job's status, progress and outcome (owners)."""

    serializer_class = ImportJobSerializer

    def get(self, request, slug, import_id):
        _, _, job = get_import_job_for_user(request.user, slug, import_id)
        return Response(ImportJobSerializer(job, context={"request": request}).data)


@listing(ReleaseSerializer)
class ReleaseList(ProjectScoped, generics.ListAPIView):
    """The project's releases; owners create one (an immutable snapshot)."""

    serializer_class = ReleaseSerializer
    queryset = Release.objects.none()

    def get_queryset(self):
        if self.faking():
            return Release.objects.none()
        return project_releases(self.project).select_related("project", "created_by")

    @extend_schema(request=ReleaseCreateSerializer, responses={201: ReleaseSerializer, **ERRORS})
    def post(self, request, slug):
        require_role(self.membership, OWNERS, "Only owners publish releases.")
        form = ReleaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        release = releases.create_release(
            project=self.project,
            user=request.user,
            version=form.validated_data.get("version", ""),
            title=form.validated_data["title"],
        )
        return Response(ReleaseSerializer(release).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: ReleaseSerializer, **ERRORS})
class ReleaseDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = ReleaseSerializer

    def get(self, request, slug, version):
        return Response(ReleaseSerializer(get_release(self.project, version)).data)


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
