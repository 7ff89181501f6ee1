"""Who reads and writes an item's discussion thread, the inbox of items in discussion, its
badge, and how the thread names its authors to each reader.

The thread is kept with the item: its leads and owners read and write it at any time; an
annotator only when they annotated the item and it is in discussion (or settled: read
only), the states in which they see the other annotations anyway, so no message can give
another annotator's labels away before then.
"""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from annotate.access.items import get_item_for_user, sees_assigned_items_only, side_letter
from annotate.access.roles import MANAGERS, get_project_for_user, project_members
from annotate.access.rows import project_rows
from annotate.models import (
    Annotation,
    DiscussionMessage,
    DiscussionRead,
    Item,
    Membership,
    Project,
    Role,
)

# The states in which an annotator of the item reads its thread (and sees both annotations).
ANNOTATOR_READS = (Item.State.DISCUSSION, Item.State.SETTLED)
CLOSED = "The discussion of this item is closed: it is no longer in discussion."
NOT_WITH_YOU = "This item is not in discussion with you."
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def get_discussion_thread(user, slug: str, item_id, *, write: bool = False):
    """(project, membership, item) for reading (or, with `write`, posting to) an item's
    thread. Outsiders, and annotators who did not annotate the item, get 404; an annotator
    of it before it is sent to discussion gets 403, and 403 when posting to a thread that
    is no longer in discussion."""
    project, membership = get_project_for_user(user, slug)
    item = get_item_for_user(user, project, item_id, membership=membership)
    if not sees_assigned_items_only(membership):
        return project, membership, item
    if not Annotation.objects.filter(item=item, annotator=user).exists():
        raise Http404("No such item.")
    if item.state not in ANNOTATOR_READS:
        raise PermissionDenied(NOT_WITH_YOU)
    if write and item.state != Item.State.DISCUSSION:
        raise PermissionDenied(CLOSED)
    return project, membership, item


def may_post(membership: Membership, item: Item) -> bool:
    """Whether the reader (who may read the thread) may also post to it now."""
    return not sees_assigned_items_only(membership) or item.state == Item.State.DISCUSSION


def thread_messages(item: Item):
    """The item's thread, oldest first (the caller passed get_discussion_thread)."""
    return DiscussionMessage.objects.filter(item=item).select_related("author")


def _last_sent_back():
    return Subquery(
        DiscussionMessage.objects.filter(
            item=OuterRef("item"), kind=DiscussionMessage.Kind.SENT_BACK
        )
        .order_by("-created")
        .values("created")[:1]
    )


def _awaiting_revision(user):
    """Items in discussion whose `user`'s annotation is older than the latest send-back."""
    stale = Annotation.objects.filter(
        item=OuterRef("pk"), annotator=user, updated_at__lt=_last_sent_back()
    )
    return Q(state=Item.State.DISCUSSION) & Exists(stale)


def _unread(user):
    """Items with a message by someone else after `user` last read their thread."""
    read_at = DiscussionRead.objects.filter(item=OuterRef("item"), user=user).values("read_at")[:1]
    newer = DiscussionMessage.objects.filter(
        item=OuterRef("pk"), created__gt=Coalesce(Subquery(read_at), _EPOCH)
    ).exclude(author=user)
    return Exists(newer)


def _annotator_reads(user):
    return Q(state__in=ANNOTATOR_READS) & Exists(
        Annotation.objects.filter(item=OuterRef("pk"), annotator=user)
    )


def _with_thread(**project):
    """Items that have a thread at all (every send-back opens one): the few rows the inbox
    and the badge look at, however many items the project holds."""
    return Q(pk__in=DiscussionMessage.objects.filter(**project).values("item_id"))


def inbox_items(user, project: Project, membership: Membership):
    """The items of the caller's inbox, each annotated with `awaiting` (their revision is
    due) and `unread` (a message by someone else they have not read): for an annotator the
    items they annotated that are in discussion, or settled with something unread; for leads
    and owners every item in discussion or with an unread message."""
    items = (
        project_rows(Item, project)
        .filter(_with_thread(item__project=project))
        .annotate(awaiting=_awaiting_revision(user), unread=_unread(user))
    )
    if sees_assigned_items_only(membership):
        items = items.filter(_annotator_reads(user)).filter(
            Q(state=Item.State.DISCUSSION) | Q(unread=True)
        )
    else:
        items = items.filter(Q(state=Item.State.DISCUSSION) | Q(unread=True))
    return items.select_related("issue__repository").order_by("-awaiting", "-unread", "position")


# The badge's one query, in SQL: the same rules as inbox_items (a thread at all; the
# reader may see it; their revision is due, or a message by someone else is newer than their
# read mark), written out because the navigation runs it on every page of a project and
# Django took several times longer to build the ORM form than PostgreSQL to run it.
_BADGE_SQL = """
SELECT COUNT(*) FROM {item} i
JOIN {project} p ON p.id = i.project_id AND p.slug = %(slug)s
JOIN {membership} m ON m.project_id = p.id AND m.user_id = %(user)s
WHERE i.id IN (SELECT item_id FROM {message})
AND (m.role = ANY(%(managers)s) OR (i.state = ANY(%(reads)s) AND EXISTS (
    SELECT 1 FROM {annotation} a WHERE a.item_id = i.id AND a.annotator_id = %(user)s)))
AND ((i.state = %(discussion)s AND EXISTS (
        SELECT 1 FROM {annotation} a WHERE a.item_id = i.id AND a.annotator_id = %(user)s
        AND a.updated_at < (SELECT MAX(s.created) FROM {message} s
                            WHERE s.item_id = i.id AND s.kind = %(sent_back)s)))
    OR EXISTS (
        SELECT 1 FROM {message} n
        LEFT JOIN {read} r ON r.item_id = n.item_id AND r.user_id = %(user)s
        WHERE n.item_id = i.id AND n.author_id IS DISTINCT FROM %(user)s
        AND (r.read_at IS NULL OR n.created > r.read_at)))
"""


def inbox_badge(user, slug: str) -> int:
    """How many items await the caller's revision or hold a message they have not read, in
    project `slug`: one query (the navigation shows it on every page of the project). 0 for
    anonymous callers and non-members."""
    if not user.is_authenticated or not slug:
        return 0
    sql = _BADGE_SQL.format(
        item=Item._meta.db_table,
        project=Project._meta.db_table,
        membership=Membership._meta.db_table,
        message=DiscussionMessage._meta.db_table,
        annotation=Annotation._meta.db_table,
        read=DiscussionRead._meta.db_table,
    )
    params = {
        "slug": slug,
        "user": user.pk,
        "managers": sorted(str(role) for role in MANAGERS),
        "reads": [str(state) for state in ANNOTATOR_READS],
        "discussion": Item.State.DISCUSSION.value,
        "sent_back": DiscussionMessage.Kind.SENT_BACK.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def author_names(project: Project, membership: Membership, item: Item, messages) -> dict:
    """author id -> what the reader calls each author of `messages`: "You"; the item's
    annotators as on the side-by-side table ("Annotator A", or their username where leads
    see names); leads and owners by username and role."""
    annotators = list(
        item.annotations.order_by("created_at", "id").values_list("annotator_id", flat=True)
    )
    reader_is_annotator = sees_assigned_items_only(membership)
    hidden = reader_is_annotator or project.hide_annotator_names
    authors = {m.author_id: m.author for m in messages if m.author_id}
    roles = dict(
        project_members(project).filter(user_id__in=authors).values_list("user_id", "role")
    )
    names = {}
    for pk, author in authors.items():
        if pk == membership.user_id:
            names[pk] = "You"
        elif pk in annotators:
            names[pk] = (
                f"Annotator {side_letter(annotators.index(pk))}" if hidden else author.username
            )
        elif roles.get(pk) in (Role.LEAD, Role.OWNER):
            names[pk] = f"{author.username} ({Role(roles[pk]).label.lower()})"
        else:
            names[pk] = author.username
    return names
