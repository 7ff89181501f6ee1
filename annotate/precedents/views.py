"""The consistency report's page (leads and owners) and its one action: confirm that a
pair's final labels differ on purpose. Re-opening an item is the adjudication's own
re-open form (item-reopen), linked from each pair."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate.access import MANAGERS, get_managed_item, get_project_for_user
from annotate.errors import ServiceError
from annotate.precedents.consistency import confirm_pair, consistency_report
from annotate.precedents.duplicates import DEFAULT_THRESHOLD, parse_threshold
from annotate.responses import error_page


@login_required
def consistency(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    try:
        threshold = parse_threshold(request.GET.get("threshold"))
    except ServiceError as error:
        return error_page(request, str(error), status=400, project=project)
    report = consistency_report(project=project, threshold=threshold)
    context = {
        "project": project,
        "membership": membership,
        "report": report,
        "threshold": threshold,
        "default_threshold": DEFAULT_THRESHOLD,
    }
    return render(request, "annotate/consistency.html", context)


@login_required
@require_POST
def consistency_confirm(request, slug, item_id):
    project, _, first = get_managed_item(request.user, slug, item_id)
    try:
        _, _, second = get_managed_item(request.user, slug, request.POST.get("other", ""))
        confirm_pair(
            project=project,
            user=request.user,
            first=first,
            second=second,
            note=request.POST.get("note", ""),
        )
        messages.success(request, "Confirmed: the two final labels differ on purpose.")
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("consistency", slug=slug)
