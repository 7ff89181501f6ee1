"""REST for machine raters (leads and owners): list and add raters, start runs (202, each
a Celery job), read a run's progress and counts. Agreement is analysis's
/agreement/raters/."""

from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    RATER_MANAGERS,
    get_rater_for_user,
    get_rater_run,
    project_raters,
)
from annotate.api.base import CONFLICT, ERRORS, ProjectScoped
from annotate.raters import runs
from annotate.raters.failures import failures_for_api
from annotate.raters.serializers import (
    RaterChangeSerializer,
    RaterInputSerializer,
    RaterRunDetailSerializer,
    RaterRunSerializer,
    RaterSerializer,
)


# The key arrives in the body: Django's error reports (the technical 500 page under
# DEBUG, mailed reports) must not show it, as a form field or as a frame's variable.
@method_decorator(sensitive_post_parameters("api_key"), name="dispatch")
class RaterList(ProjectScoped, APIView):
    pagination_class = None  # one short list, not a page: the schema must say so

    roles = RATER_MANAGERS

    @extend_schema(responses={200: RaterSerializer(many=True), **ERRORS})
    def get(self, request, slug):
        return Response(RaterSerializer(project_raters(self.project), many=True).data)

    @extend_schema(
        request=RaterInputSerializer, responses={201: RaterSerializer, **ERRORS, **CONFLICT}
    )
    @method_decorator(sensitive_variables("data"))
    def post(self, request, slug):
        data = RaterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rater = runs.add_rater(project=self.project, user=request.user, **data.validated_data)
        except runs.InvalidRater as error:
            raise ValidationError(error.fields) from None
        return Response(RaterSerializer(rater).data, status=status.HTTP_201_CREATED)


@method_decorator(sensitive_post_parameters("api_key"), name="dispatch")
class RaterDetail(ProjectScoped, APIView):
    roles = RATER_MANAGERS

    @extend_schema(responses={200: RaterSerializer, **ERRORS})
    def get(self, request, slug, rater_id):
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        return Response(RaterSerializer(rater).data)

    @extend_schema(
        request=RaterChangeSerializer, responses={200: RaterSerializer, **ERRORS, **CONFLICT}
    )
    @method_decorator(sensitive_variables("data"))
    def patch(self, request, slug, rater_id):
        """Change the fields sent (audited; the key only as replaced or removed)."""
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        data = RaterChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rater = runs.change_rater(rater=rater, user=request.user, **data.validated_data)
        except runs.InvalidRater as error:
            raise ValidationError(error.fields) from None
        return Response(RaterSerializer(rater).data)

    @extend_schema(request=None, responses={204: None, **ERRORS, **CONFLICT})
    def delete(self, request, slug, rater_id):
        """Remove the rater with its runs and labels (audited); 409 while a run is active."""
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        runs.remove_rater(rater=rater, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RunList(ProjectScoped, APIView):
    pagination_class = None  # one short list, not a page: the schema must say so

    roles = RATER_MANAGERS

    @extend_schema(responses={200: RaterRunSerializer(many=True), **ERRORS})
    def get(self, request, slug, rater_id):
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        runs.expire_dead_runs(project=self.project)
        return Response(RaterRunSerializer(rater.runs.all(), many=True).data)

    @extend_schema(
        request=None, responses={202: RaterRunSerializer(many=True), **ERRORS, **CONFLICT}
    )
    def post(self, request, slug, rater_id):
        """Queue the rater's next k runs; 409 while one of its runs is queued or running."""
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        started = runs.start_rater_runs(rater=rater, user=request.user)
        return Response(RaterRunSerializer(started, many=True).data, status=202)


class RunDetail(ProjectScoped, APIView):
    roles = RATER_MANAGERS

    @extend_schema(responses={200: RaterRunDetailSerializer, **ERRORS})
    def get(self, request, slug, rater_id, run_id):
        """The run with its failures: counts per reason and the first 100 failed items."""
        _, _, rater = get_rater_for_user(request.user, slug, rater_id)
        run = get_rater_run(rater, run_id)
        run.failures = failures_for_api(run)
        return Response(RaterRunDetailSerializer(run).data)
