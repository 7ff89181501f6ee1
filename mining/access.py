"""Scoped lookups for the miner's pages and API (on top of annotate.access: non-members
get 404, roles too low 403)."""

from django.http import Http404

from annotate.access import MANAGERS, get_project_for_user

from .models import MiningJob


def get_job_for_user(user, slug: str, job_id, roles=MANAGERS):
    """(project, membership, job) for a job of project `slug` the caller may see."""
    project, membership = get_project_for_user(user, slug, roles=roles)
    try:
        job = MiningJob.objects.prefetch_related("repositories").get(project=project, pk=job_id)
    except (MiningJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None
    return project, membership, job


def project_repositories(project):
    return project.repositories.order_by("owner", "name")


def project_jobs(project):
    return MiningJob.objects.filter(project=project).prefetch_related("repositories")
