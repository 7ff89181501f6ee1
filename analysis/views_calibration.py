"""The calibration pages (issue #17): the lead's gold set, settings and coders; the coder's
blind labeling of the gold set and, after each try, the feedback with the gold labels."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from annotate.access import (
    MANAGERS,
    get_item_for_gold,
    get_member_for_manager,
    get_own_try,
    get_project_for_user,
    project_members,
)
from annotate.evidence import IssueText
from annotate.labeling.submission import codebook_dimensions
from annotate.models import Membership
from annotate.posted import label_records
from mining.access import project_group

from . import calibration as service


def _manager(request, slug):
    return get_project_for_user(request.user, slug, roles=MANAGERS)


@login_required
def gold_set(request, slug):
    project, membership = _manager(request, slug)
    members = list(project_members(project).filter(role="annotator").select_related("user"))
    for member in members:
        member.scored_tries = list(service.finished_tries(project, member))
    context = {
        "project": project,
        "membership": membership,
        "gold": service.gold_items(project),
        "dimensions": codebook_dimensions(project),
        "members": members,
        "summary": service.summary(project),
    }
    return render(request, "analysis/calibration_gold.html", context)


@login_required
@require_POST
def gold_change(request, slug):
    project, _ = _manager(request, slug)
    action = request.POST.get("action", "")
    try:
        if action == "settings":
            service.set_settings(
                project=project,
                threshold=request.POST.get("threshold"),
                tries=request.POST.get("tries"),
                actor=request.user,
            )
        elif action in ("set", "remove"):
            item = get_item_for_gold(project, request.POST.get("item"))
            if action == "remove":
                service.remove_gold_item(project=project, item=item, actor=request.user)
            else:
                records = label_records(request.POST, codebook_dimensions(project))
                service.set_gold_item(
                    project=project,
                    item=item,
                    records=records,
                    rationale=request.POST.get("rationale", ""),
                    actor=request.user,
                )
        elif action in ("calibrate", "admit", "refuse"):
            member = get_member_for_manager(project, request.POST.get("member"))
            if action == "calibrate":
                service.put_in_calibration(project=project, membership=member, actor=request.user)
            else:
                service.decide(
                    project=project, membership=member, passed=action == "admit", actor=request.user
                )
        else:
            raise service.CalibrationError(f"Unknown action '{action[:40]}'.")
    except service.CalibrationError as error:
        messages.error(request, str(error))
    return redirect("calibration-gold", slug=project.slug)


@login_required
def calibration_label(request, slug):
    """The coder's next gold item, blind; POST stores their labels of it."""
    project, membership = get_project_for_user(request.user, slug)
    error = ""
    if request.method == "POST":
        records = label_records(request.POST, codebook_dimensions(project))
        try:
            attempt = service.answer_gold(
                project=project,
                membership=membership,
                gold_id=request.POST.get("gold"),
                records=records,
            )
        except service.CalibrationError as error_:
            error = str(error_)
        else:
            if attempt.finished_at is not None:
                return redirect("calibration-feedback", slug=slug, number=attempt.number)
            return redirect("calibration-label", slug=slug)
    membership.refresh_from_db(fields=["calibration"])
    attempt, gold = service.next_gold(project, membership)
    context = {
        "project": project,
        "membership": membership,
        "attempt": attempt,
        "gold": gold,
        "error": error,
        "tries": service.finished_tries(project, membership),
    }
    if gold is not None:
        item = gold.item
        context.update(
            issue=item.issue,
            parts=IssueText(project, item).shown([]),
            issue_group=project_group(project, item.issue.repository_id),
            dimensions=codebook_dimensions(project),
        )
    return render(request, "analysis/calibration_label.html", context, status=400 if error else 200)


@login_required
def calibration_feedback(request, slug, number):
    project, membership = get_project_for_user(request.user, slug)
    attempt = get_own_try(project, membership, number)
    if attempt.finished_at is None:
        return redirect("calibration-label", slug=slug)
    context = {
        "project": project,
        "membership": membership,
        "attempt": attempt,
        "rows": service.feedback(project, attempt),
        "passed": membership.calibration == Membership.Calibration.PASSED,
        "more": service.current_try(project, membership) is not None,
    }
    return render(request, "analysis/calibration_feedback.html", context)
