"""The item browser: every item the caller may see, filtered and searched, and one item's
page (history, labels as the caller may read them, the final label)."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from annotate.access import MANAGERS, get_item_for_user, get_project_for_user, has_role
from annotate.browse.detail import item_view
from annotate.browse.filters import BrowseError, parse_filters, read_choices
from annotate.browse.listing import RANK_CAP, browse_page
from annotate.labeling.shown import ITEM_STATES_SHOWN, shown_state_of
from annotate.responses import with_project_images
from mining.access import TextAccess, project_group

STATE_NAMES = dict(ITEM_STATES_SHOWN)


@login_required
def item_list(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    base = reverse("browse-items", args=[slug])
    choices = read_choices(project, membership)
    context = {
        "project": project,
        "membership": membership,
        "choices": choices,
        "managers": has_role(membership, MANAGERS),
        "state_names": STATE_NAMES,
        "rank_cap": RANK_CAP,
        "raw": {
            name: request.GET.get(name, "")
            for name in (
                "q",
                "state",
                "repository",
                "group",
                "annotator",
                "category",
                "labeled",
                "batch",
            )
        },  # fmt: skip
    }
    status = 200
    try:
        filters = parse_filters(
            request.GET, project=project, membership=membership, choices=choices, base=base
        )
        page = browse_page(
            project=project,
            membership=membership,
            filters=filters,
            after=request.GET.get("after", "").strip()[:100],
        )
    except BrowseError as error:
        context.update(error=str(error), error_choices=error.choices, error_hint=error.hint)
        status = 400
    else:
        query = urlencode(filters.values)
        for row in page.rows:
            row.state_name = STATE_NAMES.get(row.shown_state, row.shown_state)
        context.update(filters=filters, page=page, query=query)
        if page.next_marker:
            following = {**filters.values, "after": page.next_marker}
            context["next_url"] = f"{base}?{urlencode(following)}"
        context["first_url"] = f"{base}?{query}" if query else base
    template = "annotate/items.html"
    partial = template + "#results" if request.htmx and not request.htmx.boosted else template
    return render(request, partial, context, status=status)


@login_required
def item_detail(request, slug, item_id):
    project, membership = get_project_for_user(request.user, slug)
    item = get_item_for_user(request.user, project, item_id, membership=membership)
    TextAccess(project).hide_item(item)
    view = item_view(item=item, membership=membership)
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        "issue": item.issue,
        "group": project_group(project, item.issue.repository_id),
        "state": STATE_NAMES.get(
            shown_state_of(item, user=request.user, role=membership.role), item.state
        ),
        "managers": has_role(membership, MANAGERS),
        "view": view,
    }
    response = render(request, "annotate/item.html", context)
    return with_project_images(response, project)
