"""Open coding pages (issue #17): the proposal panel of the labeling page (loaded and
posted with htmx), and the lead's card-sort board with the phase switch."""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate.access import (
    MANAGERS,
    get_held_item,
    get_project_for_user,
    get_proposal_for_manager,
    project_categories,
    project_dimensions,
    visible_proposals,
)
from annotate.models import CategoryProposal
from annotate.opencoding import services
from annotate.opencoding.api import decide, dimension_and_parent
from annotate.responses import error_page


def _panel(request, project, membership, item, error="", status=200):
    own = visible_proposals(project, membership).filter(item=item, author=request.user)
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        "error": error,
        "proposals": own.select_related("dimension", "parent", "category"),
        "dimensions": project_dimensions(project),
        "categories": project_categories(project).active().select_related("dimension"),
        "posted": request.POST if error else {},
    }
    return render(request, "annotate/_propose_category.html", context, status=status)


@login_required
def proposal_panel(request, slug, item_id):
    """GET: the caller's proposals on the item and, in the pilot, the form; POST: a new
    proposal (the panel comes back, with the error when there is one)."""
    project, membership = get_project_for_user(request.user, slug)
    item = get_held_item(request.user, project, item_id)
    if request.method != "POST":
        return _panel(request, project, membership, item)
    post = request.POST
    try:
        parent = post.get("parent") or None
        dimension, parent = dimension_and_parent(project, post.get("dimension", ""), parent)
        services.propose_category(
            project=project, author=request.user, item=item, dimension=dimension,
            parent=parent, name=post.get("name", ""), definition=post.get("definition", ""),
            evidence=post.get("evidence", ""), record=_record(post.get("record")),
        )  # fmt: skip
    except (services.OpenCodingError, ValueError) as error:
        return _panel(request, project, membership, item, error=str(error),
                      status=200 if request.htmx else 400)  # fmt: skip
    if not request.htmx:
        return redirect("label-item", slug=project.slug, item_id=item.pk)
    return _panel(request, project, membership, item)


def _record(raw) -> int:
    """The form counts failure records from 1; the service from 0."""
    try:
        return int(raw or 1) - 1
    except (TypeError, ValueError):
        raise ValueError("The failure record is a number.") from None


@login_required
def board(request, slug):
    """The card-sort board: open proposals grouped by dimension and parent, each with its
    quote, item and author; the decided ones with what they became."""
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    rows = visible_proposals(project, membership).select_related(
        "dimension", "parent", "author", "category", "item"
    )
    groups = defaultdict(list)
    decided = []
    for proposal in rows.order_by("dimension__order", "parent__path", "name", "id"):
        if proposal.status == CategoryProposal.Status.OPEN:
            groups[(proposal.dimension.name, proposal.parent.path if proposal.parent else "")]\
                .append(proposal)  # fmt: skip
        else:
            decided.append(proposal)
    context = {
        "project": project,
        "membership": membership,
        "groups": [(dim, parent, items) for (dim, parent), items in groups.items()],
        "decided": decided,
        "categories": project_categories(project).active().select_related("dimension"),
    }
    return render(request, "annotate/board.html", context)


@login_required
@require_POST
def board_decide(request, slug, proposal_id):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    proposal = get_proposal_for_manager(project, membership, proposal_id)
    post = request.POST
    data = {
        "action": post.get("action"),
        "proposals": post.getlist("proposals"),
        "category": post.get("category") or None,
        "name": post.get("name", ""),
        "definition": post.get("definition") or None,
    }
    try:
        if data["action"] not in ("merge", "map", "promote"):
            raise services.OpenCodingError("The action is merge, map or promote.")
        decide(project, membership, request.user, proposal, data)
    except services.OpenCodingError as error:
        return error_page(request, str(error), project=project, membership=membership)
    return redirect("opencoding-board", slug=project.slug)


@login_required
@require_POST
def phase_switch(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    try:
        services.switch_phase(
            project=project, actor=request.user, phase=request.POST.get("phase", "")
        )
    except services.OpenCodingError as error:
        return error_page(request, str(error), project=project, membership=membership)
    return redirect("opencoding-board", slug=project.slug)
