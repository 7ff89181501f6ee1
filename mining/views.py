"""The miner's pages: repositories and jobs (start, watch, cancel). Owners act; leads may
look. (The pool builder, which makes annotate's items, is annotate.projects.pool_views.)"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate.access import (
    MANAGERS,
    OWNERS,
    get_project_for_user,
    has_role,
    project_items,
    require_role,
)

from .access import (
    every_repository_view,
    get_job_for_user,
    get_repository_view_for_user,
    project_jobs,
    project_repositories,
    readable_repositories_q,
)
from .forms import GroupForm, JobForm, RepositoryForm
from .jobs import (
    MiningError,
    add_repository,
    cancel_mining_job,
    job_progress,
    set_repository_group,
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
    # Only mined repositories are asked about; imported ones count the project's items.
    readable = project_repositories(project).filter(readable_repositories_q(project))
    readable = set(readable.values_list("pk", flat=True))
    items = dict(
        project_items(project)
        .values_list("issue__repository_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [_row(view, items, readable) for view in every_repository_view(project)]
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "rows": rows,
        "can_group": has_role(membership, MANAGERS),
        "groups": sorted({row["view"].group for row in rows if row["view"].group}),
    }
    return render(request, "mining/repositories.html", context)


def _row(view, items: dict, readable: set, **extra) -> dict:
    stored = None
    if view.mined and view.repository_id in readable:
        stored = Issue.objects.filter(repository=view.repository_id, fetched=True).count()
    return {"view": view, "items": items.get(view.repository_id, 0), "stored": stored, **extra}


@login_required
@require_POST
def repository_group(request, slug, repository_id):
    """Set the project's group of one repository (owners and leads); htmx swaps the row."""
    project, membership, view = get_repository_view_for_user(request.user, slug, repository_id)
    form = GroupForm(request.POST)
    error = None
    if form.is_valid():
        try:
            changed = set_repository_group(
                view=view, group=form.cleaned_data["group"], user=request.user
            )
        except MiningError as failure:
            error = str(failure)
    else:
        error = " ".join(form.errors["group"])
    if not request.htmx:
        if error:
            messages.error(request, f"{view.repository.full_name}: {error}")
        elif changed:
            messages.success(request, f"{view.repository.full_name} is now in “{view.group}”.")
        return redirect("mining-repositories", slug=slug)
    readable = project_repositories(project).filter(readable_repositories_q(project))
    readable = set(readable.values_list("pk", flat=True))
    items = dict(
        project_items(project)
        .filter(issue__repository=view.repository_id)
        .values_list("issue__repository_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    row = _row(view, items, readable, error=error, saved=error is None)
    if error:
        row["typed"] = request.POST.get("group", "")
    context = {"project": project, "membership": membership, "row": row, "can_group": True}
    return render(
        request, "mining/repositories.html#repository-row", context, status=400 if error else 200
    )


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
