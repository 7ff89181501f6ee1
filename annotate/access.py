"""Every project- or permission-scoped fetch goes through here.

Non-members get 404 (a project's existence is not revealed); members whose role is
too low get 403.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from annotate.models import ImportJob, Invitation, Item, Membership, Project, Role

ALL_ROLES = frozenset(Role.values)
MANAGERS = frozenset({Role.OWNER, Role.LEAD})
OWNERS = frozenset({Role.OWNER})


def get_membership(user, slug: str) -> Membership:
    """The caller's membership of project `slug`; 404 when absent or anonymous."""
    if not user.is_authenticated:
        raise Http404("No such project.")
    try:
        return Membership.objects.select_related("project").get(project__slug=slug, user=user)
    except Membership.DoesNotExist:
        raise Http404("No such project.") from None


def get_project_for_user(user, slug: str, roles=ALL_ROLES) -> tuple[Project, Membership]:
    """The project and the caller's membership, if the caller holds one of `roles`."""
    membership = get_membership(user, slug)
    if membership.role not in roles:
        raise PermissionDenied("Your role in this project does not allow this.")
    return membership.project, membership


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


def can_create_projects(user) -> bool:
    """Staff create projects; everyone signed in when settings.PROJECT_CREATION says so."""
    if not user.is_authenticated:
        return False
    return user.is_staff or settings.PROJECT_CREATION == "everyone"


def check_can_create_projects(user) -> None:
    if not can_create_projects(user):
        raise PermissionDenied("Only staff create projects on this site; ask an administrator.")


def user_projects(user):
    """The projects the user belongs to."""
    return Project.objects.for_user(user)


def names_hidden_from(project: Project, membership: Membership) -> bool:
    """Whether the caller sees annotators by pseudonym: leads (and annotators, about anyone
    but themselves) while the project hides annotator names. Owners manage the members and
    see their names."""
    return project.hide_annotator_names and membership.role != Role.OWNER


def pseudonym(project_id: int, user_id: int) -> str:
    """A stable name for an annotator that does not reveal who they are."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{project_id}:{user_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"annotator-{digest[:10]}"


def find_annotator(project: Project, membership: Membership, name: str):
    """The member of `project` that the caller names `name` in a filter or a `source=`, or
    None. While names are hidden from the caller only a pseudonym (or, for the caller, their
    own username) matches: a real username answers as a name nobody has, so a lead cannot
    probe who labeled what."""
    members = Membership.objects.filter(project=project).select_related("user")
    if name == membership.user.username or not names_hidden_from(project, membership):
        named = next((m.user for m in members if m.user.username == name), None)
        if named is not None:
            return named
    return next((m.user for m in members if pseudonym(project.pk, m.user_id) == name), None)


def get_invitation_for_owner(user, project: Project, invitation_id) -> Invitation:
    """An invitation of `project` (the caller already checked as its owner); 404 otherwise."""
    try:
        return Invitation.objects.get(project=project, pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such invitation.") from None


def get_invitation_by_token(token: str) -> Invitation:
    """The invitation a link's token opens, whatever its state; 404 for an unknown token."""
    invitation = (
        Invitation.objects.select_related("project")
        .filter(token_hash=Invitation.hash_token(token or ""))
        .first()
    )
    if invitation is None:
        raise Http404("This invitation link is not valid.")
    return invitation


def get_import_job_for_user(user, slug: str, job_id) -> tuple[Project, Membership, ImportJob]:
    """An import job of project `slug`, for its owners only (who start imports)."""
    project, membership = get_project_for_user(user, slug, roles=OWNERS)
    try:
        return project, membership, ImportJob.objects.get(project=project, pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.") from None


# --- labeling and adjudication ---


def sees_assigned_items_only(membership: Membership) -> bool:
    """The one rule of which items a member may see: an annotator only the items they hold
    or held an assignment of; leads and owners every item of the project."""
    return membership.role == Role.ANNOTATOR


def visible_items(user, project: Project, membership: Membership):
    """The items of `project` that the caller (a member, `membership`) may see."""
    items = Item.objects.in_project(project)
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
