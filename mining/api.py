"""The miner's REST endpoints, under /api/projects/<slug>/: repositories and jobs.
Owners act, leads read; everything is scoped through the access helpers."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import MANAGERS, OWNERS, get_project_for_user, require_role

from . import jobs
from .access import (
    get_job_for_user,
    project_jobs,
    project_repositories,
    project_repository_views,
    repository_view,
)
from .serializers import JobInput, JobSerializer, RepositoryInput, RepositorySerializer


def _owner_or_403(membership):
    require_role(membership, OWNERS, "Only the project's owners can do this.")


class RepositoryList(APIView):
    @extend_schema(responses=RepositorySerializer(many=True))
    def get(self, request, slug):
        project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
        views = project_repository_views(project)
        return Response(RepositorySerializer(views, many=True).data)

    @extend_schema(request=RepositoryInput, responses={201: RepositorySerializer})
    def post(self, request, slug):
        project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
        _owner_or_403(membership)
        data = RepositoryInput(data=request.data)
        data.is_valid(raise_exception=True)
        repository = jobs.add_repository(project=project, user=request.user, **data.validated_data)
        view = repository_view(project, repository)
        return Response(RepositorySerializer(view).data, status=status.HTTP_201_CREATED)


class JobList(APIView):
    @extend_schema(responses=JobSerializer(many=True))
    def get(self, request, slug):
        project, _ = get_project_for_user(request.user, slug, roles=MANAGERS)
        return Response(JobSerializer(project_jobs(project)[:100], many=True).data)

    @extend_schema(request=JobInput, responses={201: JobSerializer})
    def post(self, request, slug):
        """Create a job and start it (one Celery task per repository)."""
        project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
        _owner_or_403(membership)
        data = JobInput(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data.get("repositories", [])
        repositories = list(project_repositories(project).filter(pk__in=wanted))
        if len(repositories) != len(set(wanted)):
            raise ValidationError({"repositories": "Unknown repository for this project."})
        try:
            job = jobs.start_mining_job(
                project=project,
                repositories=repositories,
                links=data.validated_data.get("links", []),
                kind=data.validated_data["kind"],
                user=request.user,
            )
        except jobs.MiningError as error:
            raise ValidationError({"detail": str(error)}) from None
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED)


class JobDetail(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request, slug, job_id):
        _, _, job = get_job_for_user(request.user, slug, job_id)
        return Response(JobSerializer(job).data)


class JobStart(APIView):
    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request, slug, job_id):
        """Run a finished, failed or cancelled job again (it resumes from the watermarks)."""
        _, _, job = get_job_for_user(request.user, slug, job_id, roles=OWNERS)
        try:
            job = jobs.restart_mining_job(job=job, user=request.user)
        except jobs.MiningError as error:
            raise ValidationError({"detail": str(error)}) from None
        return Response(JobSerializer(job).data)


class JobCancel(APIView):
    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request, slug, job_id):
        _, _, job = get_job_for_user(request.user, slug, job_id, roles=OWNERS)
        return Response(JobSerializer(jobs.cancel_mining_job(job=job)).data)
