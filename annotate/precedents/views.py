"""The consistency report's page (leads and owners) and its one action: confirm that a
pair's final labels differ on purpose. Re-opening an item is the adjudication's own
re-open form (item-reopen), linked from each pair."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
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
            threshold=parse_threshold(request.POST.get("threshold")),
        )
        messages.success(request, "Confirmed: the two final labels differ on purpose.")
    except ServiceError as error:
        messages.error(request, str(error))
    return _back_to_report(slug, request.POST.get("threshold"))


def _back_to_report(slug, raw):
    """The report at the threshold the lead was reading (a pair found at 0.5 may not be
    listed at the default); a threshold that does not parse is dropped."""
    url = reverse("consistency", args=[slug])
    try:
        threshold = parse_threshold(raw, default=None)
    except ServiceError:
        threshold = None
    return redirect(f"{url}?{urlencode({'threshold': threshold})}" if threshold else url)
