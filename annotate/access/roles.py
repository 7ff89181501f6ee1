"""Who a member is in a project: memberships, roles and the doors that check them (404 for
outsiders, 403 for a role too low), pseudonyms, invitations.
"""

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404

from annotate.models import (
    ImportJob,
    Invitation,
    Membership,
    Project,
    Role,
)

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


ROLE_TOO_LOW = "Your role in this project does not allow this."


def has_role(membership: Membership, roles) -> bool:
    """Whether the member holds one of `roles`: for what a page shows, not whether it
    answers (require_role)."""
    return membership.role in roles


def require_role(membership: Membership, roles, message: str = ROLE_TOO_LOW) -> None:
    """403 (with `message`) unless the member holds one of `roles`; for an action that a
    page or resource allows only some of the roles that may read it."""
    if not has_role(membership, roles):
        raise PermissionDenied(message)


def project_members(project: Project):
    """The memberships of `project` (the members' list shows them to every member)."""
    return Membership.objects.filter(project=project)


def roles_by_project(user) -> dict[int, str]:
    """project id -> the user's role there, for every project the user belongs to."""
    return dict(Membership.objects.filter(user=user).values_list("project_id", "role"))


def user_projects_with_role(user):
    """The projects the user belongs to, each annotated with the user's `role`."""
    return Project.objects.filter(memberships__user=user).annotate(role=F("memberships__role"))


def leaves_no_owner(project: Project, membership: Membership, role: str | None = None) -> bool:
    """Whether giving `membership` `role` (None: removing it) would leave `project` without
    an owner: every project keeps one, to manage its members."""
    if membership.role != Role.OWNER or role == Role.OWNER:
        return False
    owners = project_members(project).filter(role=Role.OWNER).exclude(pk=membership.pk)
    return not owners.exists()


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


def pending_invitations(project: Project):
    """Invitations of `project` whose link still works (owners list them)."""
    return Invitation.objects.filter(project=project).pending()


def open_invitations(project: Project):
    """Invitations of `project` neither accepted nor revoked, expired ones included: each
    holds its addressee's place until revoked."""
    return Invitation.objects.filter(
        project=project, accepted_at__isnull=True, revoked_at__isnull=True
    )


def get_import_job_for_user(user, slug: str, job_id) -> tuple[Project, Membership, ImportJob]:
    """An import job of project `slug`, for its owners only (who start imports)."""
    project, membership = get_project_for_user(user, slug, roles=OWNERS)
    try:
        return project, membership, ImportJob.objects.get(project=project, pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such import.") from None
