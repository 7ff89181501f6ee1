"""The raters page (leads and owners add raters, start and resume runs, watch progress) and
the machine column of the adjudication page (loaded by htmx, empty unless the project lets
leads see a rater's labels there)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from annotate.access import (
    get_managed_item,
    get_project_for_raters,
    get_rater_for_user,
    get_rater_run,
    project_raters,
    rater_labels_for_adjudication,
)
from annotate.errors import ServiceError
from annotate.raters import runs
from annotate.raters.failures import failed_items, failure_counts, failure_row
from annotate.raters.forms import RaterChangeForm, RaterForm


@sensitive_post_parameters("api_key")
@sensitive_variables("form")
@login_required
def rater_list(request, slug):
    project, membership = get_project_for_raters(request.user, slug)
    form = RaterForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                rater = runs.add_rater(project=project, user=request.user, **form.cleaned_data)
            except runs.InvalidRater as error:
                for field, message in error.fields.items():
                    form.add_error(field, message)
            except ServiceError as error:
                form.add_error("name", str(error))
            else:
                messages.success(request, f"Rater {rater.name} added.")
                return redirect("raters", slug=slug)
    runs.expire_dead_runs(project=project)
    raters = list(project_raters(project).prefetch_related("runs"))
    for rater in raters:
        rater.change_form = RaterChangeForm.for_rater(rater)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "raters": raters,
        "active": any(r.status in r.ACTIVE for rater in raters for r in rater.runs.all()),
    }
    template = "annotate/raters.html#rater-runs" if request.htmx else "annotate/raters.html"
    return render(request, template, context, status=400 if form.errors else 200)


# The key field carries the rater's prefix (rater-ID-api_key): every field is hidden.
@sensitive_post_parameters()
@sensitive_variables("form")
@login_required
@require_POST
def rater_edit(request, slug, rater_id):
    """Change a rater's settings (audited); a bad field is named and nothing changes."""
    _, _, rater = get_rater_for_user(request.user, slug, rater_id)
    form = RaterChangeForm.for_rater(rater, request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"{rater.name} was not changed. {problems}")
        return redirect("raters", slug=slug)
    try:
        changed = runs.change_rater(rater=rater, user=request.user, **form.cleaned_data)
    except runs.InvalidRater as error:
        messages.error(request, f"{rater.name} was not changed. {' '.join(error.fields.values())}")
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Rater {changed.name} saved.")
    return redirect("raters", slug=slug)


def _act(request, slug, action) -> object:
    """Run `action()` (a service call returning the message of its success), flash its
    message or the service's refusal, and go back to the raters page."""
    try:
        done = action()
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("raters", slug=slug)


@login_required
@require_POST
def rater_remove(request, slug, rater_id):
    """Remove a rater with its runs and labels (audited); refused while a run is active."""
    _, _, rater = get_rater_for_user(request.user, slug, rater_id)

    def remove():
        runs.remove_rater(rater=rater, user=request.user)
        return f"Rater {rater.name} removed with its runs."

    return _act(request, slug, remove)


@login_required
@require_POST
def rater_start(request, slug, rater_id):
    """Queue the rater's next run(s)."""
    _, _, rater = get_rater_for_user(request.user, slug, rater_id)

    def start():
        started = runs.start_rater_runs(rater=rater, user=request.user)
        return f"{len(started)} run(s) of {rater.name} queued."

    return _act(request, slug, start)


@login_required
@require_POST
def rater_resume(request, slug, rater_id, run_id):
    _, _, rater = get_rater_for_user(request.user, slug, rater_id)
    run = get_rater_run(rater, run_id)

    def resume():
        runs.resume_rater_run(run=run)
        return f"Run {run.number} of {rater.name} queued again."

    return _act(request, slug, resume)


FAILURES_PER_PAGE = 50


@login_required
def rater_run(request, slug, rater_id, run_id):
    """One run: its configuration and counts, why its items failed (counts per reason) and
    the failed items with their reason and message, FAILURES_PER_PAGE at a time."""
    project, membership, rater = get_rater_for_user(request.user, slug, rater_id)
    run = get_rater_run(rater, run_id)
    page = Paginator(failed_items(run), FAILURES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "membership": membership,
        "rater": rater,
        "run": run,
        "counts": failure_counts(run),
        "page": page,
        "failures": [failure_row(failed) for failed in page],
    }
    return render(request, "annotate/rater_run.html", context)


@login_required
def machine_column(request, slug, item_id):
    """The machine raters' labels on an item, for a lead adjudicating it (an empty fragment
    when the project does not show them, the item is not in adjudication, or for anyone
    else who may open the item)."""
    project, membership, item = get_managed_item(request.user, slug, item_id)
    labels = rater_labels_for_adjudication(project, membership, item)
    return render(request, "annotate/_machine_column.html#machine-labels", {"labels": labels})
