"""The discussion inbox: the items sent back to a member, the discussion page of an item
(both annotations side by side and its thread) and posting to the thread. The conflict
page shows the same thread through `discussion_context`."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from annotate.access import (
    MANAGERS,
    author_names,
    get_discussion_thread,
    get_project_for_user,
    has_role,
    inbox_items,
    may_post,
    thread_messages,
)
from annotate.adjudication.inbox import mark_read, post_message
from annotate.adjudication.side_by_side import comparison_table
from annotate.errors import ServiceError
from annotate.evidence import issue_with_sides
from annotate.flash import keep_form, take_form
from annotate.models import DiscussionMessage, DiscussionRead
from annotate.responses import with_project_images
from mining.access import hide_unreadable

WHAT = {
    DiscussionMessage.Kind.SENT_BACK: "sent the item back for discussion",
    DiscussionMessage.Kind.REVISED: "revised their labels",
}


def thread_entries(project, membership, item, *, read_at=None) -> list[dict]:
    """The item's thread as its reader sees it: who (by the name they know), what, when,
    and whether it is new to them (posted by someone else after `read_at`)."""
    messages = list(thread_messages(item))
    names = author_names(project, membership, item, messages)
    return [
        {
            "id": m.pk,
            "author": names.get(m.author_id, "a former member"),
            "kind": m.kind,
            "what": WHAT.get(m.kind, ""),
            "body": m.body,
            "created": m.created,
            "mine": m.author_id == membership.user_id,
            "unread": m.author_id != membership.user_id
            and (read_at is None or m.created > read_at),
        }
        for m in messages
    ]


def discussion_context(request, project, membership, item, *, back: str = "") -> dict:
    """The thread part of a page that shows it (the conflict page, the discussion page),
    with the reply form's draft and error after a failed post. Showing it marks it read."""
    read = DiscussionRead.objects.filter(item=item, user=request.user).first()
    thread = thread_entries(project, membership, item, read_at=read.read_at if read else None)
    if thread:
        mark_read(item=item, user=request.user)
    draft, error = take_form(request, f"discussion:{item.pk}")
    return {
        "thread": thread,
        "thread_may_post": may_post(membership, item),
        "thread_back": back,
        "thread_draft": draft.get("body", "") if draft is not None else "",
        "thread_error": error,
    }


INBOX_ROWS = 200  # rows a page lists; the page says when more are waiting


@login_required
def inbox(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    items = list(inbox_items(request.user, project, membership)[: INBOX_ROWS + 1])
    more = len(items) > INBOX_ROWS
    items = items[:INBOX_ROWS]
    hide_unreadable(project, items)
    notes = {}
    for message in DiscussionMessage.objects.filter(
        item__in=items, kind=DiscussionMessage.Kind.SENT_BACK
    ).select_related("author"):
        notes[message.item_id] = message  # oldest first: the latest send-back wins
    rows = [{"item": item, "note": notes.get(item.pk)} for item in items]
    context = {
        "project": project,
        "membership": membership,
        "rows": rows,
        "more": more,
        "manager": has_role(membership, MANAGERS),
    }
    return render(request, "annotate/inbox.html", context)


@login_required
def item_discussion(request, slug, item_id):
    if request.method == "POST":
        return _post(request, slug, item_id)
    project, membership, item = get_discussion_thread(request.user, slug, item_id)
    annotations = list(
        item.annotations.select_related("annotator")
        .prefetch_related("labels")
        .order_by("created_at", "id")
    )
    table = comparison_table(item, annotations, hide_names=True)
    for side in table["sides"]:
        if side["annotation"].annotator_id == request.user.pk:
            side["name"] = "You"
    # The lead opened the discussion to show both annotations, their evidence with them.
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        **issue_with_sides(project, item, annotations),
        "table": table,
        "own": next((a for a in annotations if a.annotator_id == request.user.pk), None),
        **discussion_context(request, project, membership, item),
    }
    return with_project_images(
        render(request, "annotate/conflict_discussion.html", context), project
    )


def _post(request, slug, item_id):
    """A reply to the thread; back to the page it was written on (Post/Redirect/Get), with
    the draft kept when it is refused."""
    project, membership, item = get_discussion_thread(request.user, slug, item_id, write=True)
    try:
        post_message(item=item, author=request.user, body=request.POST.get("body", ""))
    except ServiceError as error:
        keep_form(request, f"discussion:{item.pk}", str(error))
    name = "item-discussion"
    if request.POST.get("back") == "conflict" and has_role(membership, MANAGERS):
        name = "conflict-detail"
    return redirect(reverse(name, args=[project.slug, item.pk]) + "#discussion-thread")
