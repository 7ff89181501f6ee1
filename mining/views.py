"""The miner's pages: repositories and jobs (start, watch, cancel). Owners act; leads may
look. (The pool builder, which makes annotate's items, is annotate.projects.pool_views.)"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate.access import MANAGERS, OWNERS, get_project_for_user, require_role

from .access import (
    get_job_for_user,
    project_jobs,
    project_repositories,
    project_repository_views,
    readable_repositories_q,
)
from .forms import JobForm, RepositoryForm
from .jobs import (
    MiningError,
    add_repository,
    cancel_mining_job,
    job_progress,
    start_mining_job,
)
from .models import Issue


def _require_owner(membership):
    require_role(membership, OWNERS, "Only the project's owners can do this.")


@login_required
def repositories(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    form = RepositoryForm()
    if request.method == "POST":
        _require_owner(membership)
        form = RepositoryForm(request.POST)
        if form.is_valid():
            repository = add_repository(
                project=project,
                full_name=form.cleaned_data["full_name"],
                group=form.cleaned_data["group"],
                metadata=form.metadata() or None,
                user=request.user,
            )
            messages.success(request, f"{repository.full_name} added.")
            return redirect("mining-repositories", slug=slug)
    # How many issues another project stored of a repository this project may not read
    # (a private one, mined with that project's token) is that project's business: None.
    # Only mined repositories have rows below, so only theirs are asked about.
    readable = project_repositories(project).filter(readable_repositories_q(project))
    readable = set(readable.values_list("pk", flat=True))
    rows = [
        (
            view,
            Issue.objects.filter(repository=view.repository_id, fetched=True).count()
            if view.repository_id in readable
            else None,
        )
        for view in project_repository_views(project)
    ]
    context = {"project": project, "membership": membership, "form": form, "rows": rows}
    return render(request, "mining/repositories.html", context)


@login_required
def jobs(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    form = JobForm(project=project)
    if request.method == "POST":
        _require_owner(membership)
        form = JobForm(request.POST, project=project)
        if form.is_valid():
            try:
                job = start_mining_job(
                    project=project,
                    repositories=form.cleaned_data["repositories"],
                    links=form.cleaned_data["links"],
                    kind=form.cleaned_data["kind"],
                    user=request.user,
                )
            except MiningError as error:  # no token the project may use
                form.add_error(None, str(error))
            else:
                return redirect("mining-job", slug=slug, job_id=job.pk)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "jobs": project_jobs(project)[:50],
    }
    return render(request, "mining/jobs.html", context, status=400 if form.errors else 200)


@login_required
def job_detail(request, slug, job_id):
    project, membership, job = get_job_for_user(request.user, slug, job_id)
    context = {
        "project": project,
        "membership": membership,
        "job": job,
        "progress": job_progress(job),
        "tasks": job.tasks.select_related("repository"),
    }
    if request.htmx:
        return render(request, "mining/job_detail.html#progress", context)
    return render(request, "mining/job_detail.html", context)


@login_required
@require_POST
def job_cancel(request, slug, job_id):
    project, membership, job = get_job_for_user(request.user, slug, job_id, roles=OWNERS)
    cancel_mining_job(job=job)
    messages.success(request, "Cancelling: the job stops after its current page.")
    return redirect("mining-job", slug=slug, job_id=job.pk)
