"""The pool builder's page: a project's managers filter its mined issues through the
funnel; owners commit the selection as the project's items."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from annotate.access import MANAGERS, OWNERS, get_project_for_user, require_role
from annotate.projects import pool
from annotate.projects.pool_forms import PoolForm


@login_required
def pool_builder(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = PoolForm(data, project=project)
    funnel, error, duplicates = None, "", []
    if form.is_bound and form.is_valid():
        try:
            definition = form.definition()
            if "commit" in request.POST:  # before the minute of grouping, not after
                require_role(membership, OWNERS, "Only the project's owners can do this.")
            folded = pool.folded_pool(project, definition)  # once for funnel, preview, build
            funnel = pool.funnel(project, definition, folded)
            duplicates = pool.duplicate_preview(project, definition, folded)
            if "commit" in request.POST:
                items = pool.build_pool(
                    project=project, definition=definition, user=request.user, folded=folded
                )
                messages.success(request, f"The pool holds {len(items)} of the selected issues.")
                return redirect("mining-pool", slug=slug)
        except pool.PoolError as failure:
            error = str(failure)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "funnel": funnel,
        "duplicates": duplicates,
        "error": error,
        "definition": project.sample_definition,
    }
    return render(request, "mining/pool.html", context)
