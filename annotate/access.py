"""Every project- or permission-scoped fetch goes through here.

Non-members get 404 (a project's existence is not revealed); members whose role is
too low get 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ImportJob, Item, Membership, Project, Role

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

    Annotators see only items they hold or held an assignment for. `membership` is the
    caller's, when the view already read it (get_project_for_user): it saves a query."""
    if membership is None or (membership.user_id, membership.project_id) != (user.pk, project.pk):
        membership = get_membership(user, project.slug)
    if membership.role not in roles:
        raise PermissionDenied("Your role in this project does not allow this.")
    items = Item.objects.select_related("issue__repository").filter(project=project)
    if membership.role == Role.ANNOTATOR:
        items = items.filter(assignments__annotator=user)
    try:
        return items.get(pk=item_id)
    except (Item.DoesNotExist, ValueError, TypeError):
        raise Http404("No such item.") from None


def user_projects(user):
    """The projects the user belongs to."""
    return Project.objects.for_user(user)


def get_import_job_for_user(user, slug: str, job_id) -> tuple[Project, Membership, ImportJob]:
    """An import job of project `slug`, for its owners only (who start imports)."""
    project, membership = get_project_for_user(user, slug, roles=OWNERS)
    try:
        return project, membership, ImportJob.objects.get(project=project, pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.") from None
