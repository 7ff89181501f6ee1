"""The lead's pages: the conflict queue, the conflict view and decision, discussion,
reopening and history."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotate.access import (
    MANAGERS,
    annotator_aliases,
    get_managed_item,
    get_project_for_user,
    project_dimensions,
    project_rows,
    side_letter,
)
from annotate.adjudication import conflicts
from annotate.adjudication.audit import final_records
from annotate.adjudication.decisions import decide_item, parse_records
from annotate.adjudication.discussion import (
    discussion_agreement,
    end_discussion,
    reopen_item,
    start_discussion,
)
from annotate.adjudication.inbox_views import discussion_context, thread_entries
from annotate.adjudication.queue_page import (
    DEFAULT_PAGE_SIZE,
    PAGE_SIZES,
    QueueError,
    QueuePage,
    first_waiting,
    queue_page,
)
from annotate.adjudication.side_by_side import comparison_table
from annotate.errors import ServiceError
from annotate.evidence import issue_with_sides
from annotate.flash import keep_form, take_form
from annotate.models import Annotation, AnnotationLabel, AuditEvent, Category, FinalLabel, Item
from annotate.posted import decision_records
from annotate.precedents.lookup import precedents_for
from annotate.records import named_paths
from annotate.responses import with_project_images
from annotate.versioned import cached, data_version
from mining.access import hide_unreadable
from mining.models import ProjectRepository, Repository

UNSHOWN = ("issue__raw", "issue__body", "snapshot_body", "metadata")
LABELS_WITH_DIMENSION = Prefetch("labels", AnnotationLabel.objects.select_related("dimension"))


def _readable(project, items) -> list:
    """`items`, their issues' text blanked where `project` may not read it."""
    items = list(items)
    hide_unreadable(project, items)
    return items


def _queue_filters(request) -> dict:
    return {
        "dimension": request.GET.get("dimension") or None,
        "pair": conflicts.parse_pair(request.GET.get("pair")),
        "repository": request.GET.get("repository") or None,
        "group": request.GET.get("group") or None,
    }


@login_required
def conflict_queue(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    filters = _queue_filters(request)
    # The facets and the discussion figures are the same for every lead and change only
    # with the data: computed once per data version (as is the queue's order).
    version = data_version(project)  # read once, before the data
    facets = cached(project, ("conflict-facets", 2), lambda: _queue_facets(project), version)
    counts = facets["counts"]
    status, error = 200, ""
    try:
        after, size = request.GET.get("after", ""), request.GET.get("size")
        page = queue_page(project, filters, after=after, size=size, version=version)
    except QueueError as problem:
        page, error, status = QueuePage([], 0, DEFAULT_PAGE_SIZE, "", 0), str(problem), 400
    context = {
        "project": project,
        "membership": membership,
        "page": page,
        "error": error,
        "page_sizes": PAGE_SIZES,
        "detail_base": reverse("conflict-queue", args=[project.slug]),
        "next_url": _page_url(request, page.next_marker) if page.next_marker else "",
        "first_url": _page_url(request, "") if page.start else "",
        "counts": counts,
        "filters": filters,
        "pair_value": request.GET.get("pair", ""),
        "dimensions": [
            (d, counts["by_dimension"].get(d.key, 0)) for d in project_dimensions(project)
        ],
        "repositories": facets["repositories"],
        "groups": facets["groups"],
        "discussion": facets["discussion"],
        "discussing": facets["discussing"],
    }
    template = "annotate/conflict_queue.html"
    return render(
        request, template + "#queue" if request.htmx else template, context, status=status
    )


def _page_url(request, marker: str) -> str:
    """This queue's address with the same filters and page size, at the page after
    `marker` ('' for the first)."""
    query = {key: value for key, value in request.GET.items() if key != "after" and value}
    if marker:
        query["after"] = marker
    return f"{request.path}?{urlencode(query)}" if query else request.path


def _queue_facets(project) -> dict:
    """The queue's counts, the repositories and groups in conflict, the agreement of
    discussed items and the items in discussion: the same for every lead."""
    in_conflict = project_rows(Item, project).filter(state=Item.State.CONFLICT)
    repository_ids = in_conflict.values("issue__repository")
    return {
        "counts": conflicts.conflict_counts(project),
        "repositories": sorted(
            set(Repository.objects.filter(pk__in=repository_ids).values_list("owner", "name"))
        ),
        "groups": sorted(
            {
                group
                for group in project_rows(ProjectRepository, project)
                .filter(repository__in=repository_ids)
                .values_list("group", flat=True)
                if group
            }
        ),
        "discussion": discussion_agreement(project),
        "discussing": _readable(
            project,
            project_rows(Item, project)
            .filter(state=Item.State.DISCUSSION)
            .select_related("issue__repository")
            .defer(*UNSHOWN)
            .order_by("position", "pk")[:100],
        ),
    }


def _decision_rows(project, table, posted=None) -> list[dict]:
    """The decision form's failure records: one select per dimension, preset to the
    annotators' common answer (or to what the lead posted), with each side's choice."""
    compared = {
        (record["index"], dim["dimension"].pk): [
            cell["category"].pk if cell["category"] else "" for cell in dim["cells"]
        ]
        for record in table["records"]
        for dim in record["dimensions"]
    }
    used = {pk for sides in compared.values() for pk in sides if pk}
    options: dict[int, list] = {}
    for category in project_rows(Category, project).order_by("path"):
        if not category.retired or category.pk in used:
            options.setdefault(category.dimension_id, []).append(category)
    source = posted
    if source is None:
        source = [{"index": r["index"], "values": None} for r in table["records"]]
        source = source or [{"index": 0, "values": {}}]
    dimensions = list(project_dimensions(project))
    rows = []
    for record in source:
        dims = []
        for dimension in dimensions:
            sides = compared.get((record["index"], dimension.pk), [])
            if record["values"] is not None:
                selected = record["values"].get(dimension.key, "")
            else:
                selected = sides[0] if sides and len(set(sides)) == 1 else ""
            dims.append(
                {
                    "dimension": dimension,
                    "options": options.get(dimension.pk, []),
                    "sides": [{"letter": side_letter(i), "id": pk} for i, pk in enumerate(sides)],
                    "selected": str(selected),
                }
            )
        rows.append({"index": record["index"], "dims": dims})
    return rows


def _wire(posted: dict) -> dict:
    """A record of the decision form in the wire shape (a blank select names no category)."""
    labels = [{"dimension": key, "category": value} for key, value in posted["values"].items()]
    return {"labels": labels}


def _conflict_context(request, project, membership, item, form=None) -> dict:
    """The conflict page's context; `form` is the decision form's inputs as the lead posted
    them (after an error), or None."""
    posted = None
    if form is not None:
        posted = decision_records(form, list(project_dimensions(project)))
    annotations = list(
        Annotation.objects.filter(item=item)
        .select_related("annotator")
        .prefetch_related(LABELS_WITH_DIMENSION)
        .order_by("created_at", "id")
    )
    table = comparison_table(item, annotations, project.hide_annotator_names)
    decision = _decision_rows(project, table, posted)
    return {
        "project": project,
        "membership": membership,
        "item": item,
        **issue_with_sides(project, item, annotations),
        "table": table,
        "decision": decision,
        "record_count": max((r["index"] for r in decision), default=0) + 1,
        "differences": conflicts.open_differences([item]).get(item.pk, []),
        "final": FinalLabel.objects.filter(item=item).select_related("decided_by").first(),
        "error_kinds": FinalLabel.ErrorKind.choices,
        "posted": form if form is not None else {},
        "next_item_id": first_waiting(project, other_than=item.pk),
        **discussion_context(request, project, membership, item, back="conflict"),
    }


@login_required
def conflict_detail(request, slug, item_id):
    project, membership, item = get_managed_item(request.user, slug, item_id)
    form, error = take_form(request, f"decision:{item.pk}")
    context = _conflict_context(request, project, membership, item, form)
    context["error"] = error
    return with_project_images(render(request, "annotate/conflict_detail.html", context), project)


@login_required
def conflict_precedents(request, slug, item_id):
    """The conflict page's precedents (issue #19), loaded after the page: the similarity
    lookup is most of the page's time on a large project (4.8 of 5.4 s at 100,000 items
    and load 9), and nothing on the page waits for it."""
    project, membership, item = get_managed_item(request.user, slug, item_id)
    context = {
        "project": project,
        "membership": membership,
        "precedents": precedents_for(project=project, item=item),
    }
    return render(request, "annotate/_precedents.html", context)


@login_required
@require_POST
def conflict_decide(request, slug, item_id):
    project, _, item = get_managed_item(request.user, slug, item_id)
    posted = decision_records(request.POST, list(project_dimensions(project)))
    out_of_scope = bool(request.POST.get("out_of_scope"))
    try:
        records = parse_records(
            project=project, raw_records=[] if out_of_scope else [_wire(r) for r in posted]
        )
        decide_item(
            item=item,
            actor=request.user,
            records=records,
            out_of_scope=out_of_scope,
            out_of_scope_reason=request.POST.get("out_of_scope_reason", ""),
            rationale=request.POST.get("rationale", ""),
            error_kind=request.POST.get("error_kind", ""),
            codebook_needs_work=bool(request.POST.get("codebook_needs_work")),
        )
    except ServiceError as error:
        # Post/Redirect/Get: back on the conflict page, the error above the form as typed.
        keep_form(request, f"decision:{item.pk}", str(error))
        return redirect("conflict-detail", slug=slug, item_id=item.pk)
    messages.success(request, f"Settled {item.issue}.")
    following = first_waiting(project)
    if following is not None:
        return redirect("conflict-detail", slug=slug, item_id=following)
    return redirect("conflict-queue", slug=slug)


def _item_action(request, slug, item_id, action, success: str):
    _, _, item = get_managed_item(request.user, slug, item_id)
    try:
        action(item)
        messages.success(request, success)
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("conflict-detail", slug=slug, item_id=item.pk)


@login_required
@require_POST
def conflict_discuss(request, slug, item_id):
    note = request.POST.get("note", "")
    return _item_action(
        request,
        slug,
        item_id,
        lambda item: start_discussion(item=item, actor=request.user, note=note),
        "Sent back to its annotators for discussion.",
    )


@login_required
@require_POST
def conflict_end_discussion(request, slug, item_id):
    return _item_action(
        request,
        slug,
        item_id,
        lambda item: end_discussion(item=item, actor=request.user),
        "Discussion closed.",
    )


@login_required
@require_POST
def item_reopen(request, slug, item_id):
    reason = request.POST.get("reason", "")
    return _item_action(
        request,
        slug,
        item_id,
        lambda item: reopen_item(item=item, actor=request.user, reason=reason),
        "Re-opened: the item is back in the conflict queue.",
    )


# What the audit trail's event kinds say to a reader (issue #15); an unknown kind reads as
# its own words.
EVENT_LABELS = {
    "annotation_submitted": "Labels submitted",
    "annotation_replaced": "Labels replaced",
    "item_skipped": "Skipped",
    "calibration_pinned": "Pinned as a calibration item",
    "conflict": "Conflict found",
    "settled": "Settled by agreement",
    "adjudicated": "Adjudicated",
    "discussion_started": "Discussion started",
    "discussion_ended": "Discussion ended",
    "reopened": "Re-opened",
    "codebook_split_reopened": "Re-opened by a codebook split",
}


@login_required
def item_history(request, slug, item_id):
    project, membership, item = get_managed_item(request.user, slug, item_id)
    names = annotator_aliases(item)
    dimension_names = dict(project_dimensions(project).values_list("key", "name"))
    events = []
    for event in AuditEvent.objects.filter(item=item).select_related("actor"):
        actor = names.get(event.actor_id) or (event.actor.username if event.actor else "system")
        payload = event.payload if isinstance(event.payload, dict) else {}
        final = payload.get("final") if isinstance(payload.get("final"), dict) else {}
        events.append(
            {
                "event": event,
                "actor": actor,
                "label": EVENT_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize()),
                "records": named_paths(payload.get("records"), dimension_names),
                "final_records": named_paths(final.get("records"), dimension_names),
            }
        )
    final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
    annotations = (
        Annotation.objects.filter(item=item)
        .prefetch_related(LABELS_WITH_DIMENSION)
        .order_by("created_at", "id")
    )
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        **issue_with_sides(project, item, annotations),
        "events": events,
        "final": final,
        "thread": thread_entries(project, membership, item),
        "final_records": named_paths(final_records(final), dimension_names) if final else [],
    }
    return with_project_images(render(request, "annotate/history.html", context), project)
