"""The labeling pages: the keyboard-first labeling workspace and "my labeled items".

Only the caller's own annotation is ever rendered; another annotator's labels, and how
many others labeled an item, never reach these pages."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from annotate.access import (
    get_held_item,
    get_project_for_user,
    may_see_precedents,
    readable_final_label,
)
from annotate.evidence import IssueText
from annotate.labeling.errors import InCalibrationError, LabelingError
from annotate.labeling.own_labels import (
    compare_with_final,
    labeled_items,
    own_annotation,
    own_records,
)
from annotate.labeling.queue import BARRED, next_item, skip_item
from annotate.labeling.shown import annotator_progress, project_progress
from annotate.labeling.submission import codebook_dimensions, submit_annotation
from annotate.models import Item
from annotate.posted import label_records
from annotate.precedents.lookup import precedents_for
from annotate.responses import with_project_images
from mining.access import hide_unreadable, project_group

CONFIDENCE_CHOICES = [(1, "1 guess"), (2, "2"), (3, "3"), (4, "4"), (5, "5 certain")]


def _span_value(label) -> str:
    """A label's evidence span as the form carries it (`part:start:end:hash`), or ""."""
    if label is None or not label.span_key:
        return ""
    return f"{label.span_key}:{label.span_start}:{label.span_end}:{label.span_hash}"


def _record_context(dimensions, records) -> list[dict]:
    """One entry per failure record, each with a picker per dimension (prefilled)."""
    rows = []
    for index, record in enumerate(records or [[]]):
        chosen = {label.dimension_id: label for label in record}
        pickers = []
        for entry in dimensions:
            label = chosen.get(entry["dimension"].pk)
            pickers.append(
                {
                    "dimension": entry["dimension"],
                    "categories": entry["categories"],
                    "selected": label.category if label else None,
                    "evidence": label.evidence if label else "",
                    "span": _span_value(label),
                }
            )
        rows.append({"index": index, "pickers": pickers})
    return rows


def _workspace_context(
    request, project, membership, item, error="", submitted=None, revised=None
) -> dict:
    """Everything the workspace partial needs for `item` (or the "all done" state);
    `revised` is the item whose labels the caller just revised in discussion."""
    context = {
        "revised": revised,
        "project": project,
        "membership": membership,
        "item": item,
        "error": error,
        "submitted_item": submitted,
        "confidence_choices": CONFIDENCE_CHOICES,
    }
    # The workspace loads its counts after it (label_progress): every submission changes
    # the data, so they are never warm, and they were half the server time of "submit and
    # next" at 100,000 items (issue #15).
    if item is None:
        return context
    annotation = own_annotation(item=item, user=request.user)
    dimensions = codebook_dimensions(project)
    own = own_records(annotation) if annotation else []
    final = readable_final_label(annotation.item) if annotation is not None else None
    # Only the caller's own spans: nobody sees another annotator's evidence here.
    spans = [(label, "evidence-own", "Your evidence") for record in own for label in record]
    context.update(
        issue=item.issue,
        issue_group=project_group(project, item.issue.repository_id),
        parts=IssueText(project, item).shown(spans),
        annotation=annotation,
        dimensions=dimensions,
        records=_record_context(dimensions, own),
        own_records=own,
        blank_record=_record_context(dimensions, [[]])[0]["pickers"],
        comparison=compare_with_final(annotation, final) if annotation else None,
        # A coder the lead sent through calibration (or kept out) may not label main-queue
        # items, even one held from before: no form, the reason instead.
        barred=BARRED.get(membership.calibration, "").replace("{slug}", project.slug),
        editable=membership.calibration not in BARRED
        and (annotation is None or item.state in (Item.State.OPEN, Item.State.DISCUSSION)),
        precedents=precedents_after_submission(request.user, project, membership, item, annotation),
    )
    return context


@login_required
def label_progress(request, slug):
    """The workspace's progress line: the caller's own counts and the project's."""
    project, membership = get_project_for_user(request.user, slug)
    context = {
        "project": project,
        "progress": annotator_progress(project=project, user=request.user),
        "project_progress": project_progress(project=project, role=membership.role),
    }
    return render(request, "annotate/label.html#progress", context)


def precedents_after_submission(user, project, membership, item, annotation):
    """The item's precedents once the caller's own annotation is in; None before (blind)."""
    if annotation is None or not may_see_precedents(user, membership, item, own=annotation):
        return None
    return precedents_for(project=project, item=item)


def _render_workspace(request, context, status=200):
    template = "annotate/label.html#workspace" if request.htmx else "annotate/label.html"
    response = render(request, template, context, status=status)
    with_project_images(response, context["project"])
    if request.htmx and context["item"] is not None:
        response["HX-Push-Url"] = reverse(
            "label-item", args=[context["project"].slug, context["item"].pk]
        )
    return response


def _to_calibration(request, project):
    """To the calibration page: for htmx, as a whole-page visit (HX-Redirect), since a plain
    redirect would be followed by htmx and swap that whole page into the workspace."""
    url = reverse("calibration-label", args=[project.slug])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _go_next(request, project, membership, submitted=None, revised=None):
    """After a submit or a skip: the next item, swapped in by htmx or by a redirect; a
    revision in discussion is confirmed on it."""
    if not request.htmx:
        if revised is not None:
            messages.success(request, revision_saved(revised))
        return redirect("label-next", slug=project.slug)
    try:
        item = next_item(project=project, user=request.user)
    except InCalibrationError:
        return _to_calibration(request, project)
    context = _workspace_context(
        request, project, membership, item, submitted=submitted, revised=revised
    )
    response = _render_workspace(request, context)
    if item is None:
        response["HX-Push-Url"] = reverse("label-next", args=[project.slug])
    return response


@login_required
def label_next(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    try:
        item = next_item(project=project, user=request.user)
    except InCalibrationError:
        return redirect("calibration-label", slug=slug)
    if item is not None:
        return redirect("label-item", slug=slug, item_id=item.pk)
    return _render_workspace(request, _workspace_context(request, project, membership, None))


@login_required
def label_item(request, slug, item_id):
    project, membership = get_project_for_user(request.user, slug)
    item = get_held_item(request.user, project, item_id)
    if request.method != "POST":
        return _render_workspace(request, _workspace_context(request, project, membership, item))
    out_of_scope = request.POST.get("out_of_scope") == "on"
    confidence = request.POST.get("confidence", "")
    in_discussion = item.state == Item.State.DISCUSSION
    try:
        submit_annotation(
            project=project,
            user=request.user,
            item=item,
            records=[]
            if out_of_scope
            else label_records(request.POST, codebook_dimensions(project)),
            out_of_scope=out_of_scope,
            out_of_scope_reason=request.POST.get("out_of_scope_reason", ""),
            note=request.POST.get("note", ""),
            # str.isdigit() accepts '²' and other digits int() refuses.
            confidence=int(confidence) if re.fullmatch(r"[0-9]{1,3}", confidence) else None,
            active_seconds=request.POST.get("active_seconds") or None,
        )
    except InCalibrationError:
        return _to_calibration(request, project)
    except LabelingError as error:
        context = _workspace_context(request, project, membership, item, error=str(error))
        return _render_workspace(request, context, status=200 if request.htmx else 400)
    revised = item if in_discussion else None
    return _go_next(request, project, membership, submitted=item.pk, revised=revised)


def revision_saved(item) -> str:
    return (
        f"Your revision of {item.issue.repository.full_name}#{item.issue.number} is saved: "
        "the lead sees it in the item's discussion."
    )


@login_required
@require_POST
def label_skip(request, slug, item_id):
    project, membership = get_project_for_user(request.user, slug)
    item = get_held_item(request.user, project, item_id)
    try:
        skip_item(
            project=project, user=request.user, item=item, reason=request.POST.get("reason", "")
        )
    except LabelingError as error:
        context = _workspace_context(request, project, membership, item, error=str(error))
        return _render_workspace(request, context, status=200 if request.htmx else 400)
    return _go_next(request, project, membership, submitted=item.pk)


@login_required
def label_mine(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    page = Paginator(labeled_items(project=project, user=request.user), 50).get_page(
        request.GET.get("page")
    )
    hide_unreadable(project, [annotation.item for annotation in page])
    rows = []
    for annotation in page:
        item = annotation.item
        final = readable_final_label(item)
        rows.append(
            {
                "annotation": annotation,
                "item": item,
                "records": own_records(annotation),
                "comparison": compare_with_final(annotation, final),
            }
        )
    context = {"project": project, "membership": membership, "page": page, "rows": rows}
    return render(request, "annotate/label_mine.html", context)
