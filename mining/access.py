"""Scoped lookups for the miner's pages and API (on top of annotate.access: non-members
get 404, roles too low 403)."""

from django.http import Http404

from annotate.access import MANAGERS, get_project_for_user

from .models import MiningJob, ProjectRepository, Repository


def get_job_for_user(user, slug: str, job_id, roles=MANAGERS):
    """(project, membership, job) for a job of project `slug` the caller may see."""
    project, membership = get_project_for_user(user, slug, roles=roles)
    try:
        job = MiningJob.objects.prefetch_related("repositories").get(project=project, pk=job_id)
    except (MiningJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None
    return project, membership, job


def project_repositories(project):
    """The repositories `project` mines."""
    return Repository.objects.filter(views__project=project, views__mined=True).order_by(
        "owner", "name"
    )


def project_repository_views(project):
    """The project's own views (group, metadata, its last sync) of the repositories it
    mines; no other project's."""
    return (
        ProjectRepository.objects.filter(project=project, mined=True)
        .select_related("repository")
        .order_by("repository__owner", "repository__name")
    )


class ProjectGroups:
    """repository id -> `project`'s own group of it (read once, on first use), for the
    serializers that show an issue's group: another project's group never shows."""

    def __init__(self, project):
        self.project = project
        self._groups = None

    def get(self, repository_id) -> str:
        if self._groups is None:
            views = ProjectRepository.objects.filter(project=self.project)
            self._groups = dict(views.values_list("repository_id", "group"))
        return self._groups.get(repository_id, "")


def project_group(project, repository_id) -> str:
    return ProjectGroups(project).get(repository_id)


def repository_view(project, repository):
    return ProjectRepository.objects.select_related("repository").get(
        project=project, repository=repository
    )


def project_jobs(project):
    return MiningJob.objects.filter(project=project).prefetch_related("repositories")
