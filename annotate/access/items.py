"""Which items a member sees (the one visible-items rule), held, managed and discussion
items, and how leads name an item's annotators.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotate.access.roles import ALL_ROLES, MANAGERS, get_membership, get_project_for_user
from annotate.access.rows import project_rows
from annotate.models import (
    Item,
    Membership,
    Project,
    Role,
)


def get_item_for_user(
    user, project: Project, item_id, roles=ALL_ROLES, membership: Membership | None = None
) -> Item:
    """An item of `project` that the caller (already a member with one of `roles`) may see.

    Which items, see `visible_items`. `membership` is the caller's, when the view already
    read it (get_project_for_user): it saves a query."""
    if membership is None or (membership.user_id, membership.project_id) != (user.pk, project.pk):
        membership = get_membership(user, project.slug)
    if membership.role not in roles:
        raise PermissionDenied("Your role in this project does not allow this.")
    items = visible_items(user, project, membership).select_related("issue__repository")
    try:
        return items.get(pk=item_id)
    except (Item.DoesNotExist, ValueError, TypeError):
        raise Http404("No such item.") from None


def sees_assigned_items_only(membership: Membership) -> bool:
    """The one rule of which items a member may see: an annotator only the items they hold
    or held an assignment of; leads and owners every item of the project."""
    return membership.role == Role.ANNOTATOR


def sees_true_state(role: str) -> bool:
    """Leads and owners see an item's true state; an annotator sees `submitted` or `open`
    for unsettled items, which does not tell whether the others disagreed."""
    return role != Role.ANNOTATOR


def visible_items(user, project: Project, membership: Membership):
    """The items of `project` that the caller (a member, `membership`) may see."""
    items = project_rows(Item, project)
    if sees_assigned_items_only(membership):
        items = items.filter(assignments__annotator=user)
    return items


def get_held_item(user, project: Project, item_id) -> Item:
    """The item, if the caller holds (or held) an assignment of it, whatever their role:
    the labeling pages show only items the caller labels; 403 otherwise."""
    item = get_item_for_user(user, project, item_id)
    if not item.assignments.filter(annotator=user).exists():
        raise PermissionDenied("This item is not assigned to you.")
    return item


def get_managed_item(user, slug: str, item_id) -> tuple[Project, Membership, Item]:
    """An item of project `slug` for its leads and owners, who adjudicate: 404 for
    outsiders, 403 for annotators."""
    project, membership = get_project_for_user(user, slug, roles=MANAGERS)
    return project, membership, get_item_for_user(user, project, item_id, roles=MANAGERS)


def get_discussion_for_user(
    user, project: Project, membership: Membership, item_id
) -> tuple[Item, list]:
    """An item and its annotations (oldest first) for the discussion page. Leads and owners
    see any item's; an annotator only an item in discussion (or settled) that they
    annotated, and 403 otherwise."""
    item = get_item_for_user(user, project, item_id)
    annotations = list(
        item.annotations.select_related("annotator")
        .prefetch_related("labels")
        .order_by("created_at", "id")
    )
    if membership.role == Role.ANNOTATOR and (
        item.state not in (Item.State.DISCUSSION, Item.State.SETTLED)
        or not any(a.annotator_id == user.pk for a in annotations)
    ):
        raise PermissionDenied("This item is not in discussion with you.")
    return item, annotations


def readable_final_label(item: Item):
    """The final label an annotator may read beside their own annotation of `item`: only
    once the item is settled (before, it would give the other annotations away). Reads the
    `final_label` loaded with the item; None when there is none."""
    return getattr(item, "final_label", None) if item.state == Item.State.SETTLED else None


def side_letter(index: int) -> str:
    return chr(ord("A") + index)


def annotator_aliases(item: Item) -> dict[int, str]:
    """What leads call the item's annotators in its history: "Annotator A", "Annotator B"
    when the project hides names, otherwise nothing (their usernames are shown)."""
    if not item.project.hide_annotator_names:
        return {}
    annotators = item.annotations.order_by("created_at", "id").values_list(
        "annotator_id", flat=True
    )
    return {pk: f"Annotator {side_letter(i)}" for i, pk in enumerate(annotators)}
