"""What every API view shares: the one error body ``{"detail", "code", "fields"}``
(`fields` is empty except on 400) and its exception handler, cursor pagination on `id`,
and the mixin that resolves a project through annotate.access before anything else."""

from __future__ import annotations

import os
import re
import traceback

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.exceptions import (
    APIException,
    NotFound,
    ParseError,
    ValidationError,
)
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.views import exception_handler as drf_exception_handler

from annotate.access import (
    ALL_ROLES,
    get_project_for_user,
)
from annotate.api.serializers import ApiErrorSerializer
from annotate.projects import services
from mining.access import ProjectGroups, TextAccess

ERRORS = {
    400: OpenApiResponse(ApiErrorSerializer, description="Invalid input, messages per field."),
    401: OpenApiResponse(ApiErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ApiErrorSerializer, description="Your role does not allow this."),
    404: OpenApiResponse(ApiErrorSerializer, description="No such project (or object)."),
}


CONFLICT = {409: OpenApiResponse(ApiErrorSerializer, description="It exists already.")}


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
    "annotate.api.base.exception_handler"; the views here use it already."""
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
