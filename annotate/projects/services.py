"""Multi-step work on projects: creating them (with the study's preset codebook), members,
invitations, a project's GitHub token, and progress counts for the home page."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from annotate.access import (
    items_of_projects,
    leaves_no_owner,
    open_invitations,
    project_dimensions,
    project_members,
)
from annotate.errors import Conflict, InvitationGone, ServiceError
from annotate.models import (
    PATH_SEPARATOR,
    Category,
    CodebookChange,
    Dimension,
    Invitation,
    Item,
    Membership,
    Project,
    Role,
)
from annotate.presets import CODEBOOKS, STUDY_PRESET

# /projects/new/ is the new-project page, not a project.
RESERVED_SLUGS = frozenset({"new"})


@dataclass
class NewUser:
    username: str
    password: str


@transaction.atomic
def create_project(
    *, name: str, slug: str, owner=None, preset: bool = True, codebook: str = "study", **fields
) -> Project:
    """Create a project, make `owner` its owner and load its codebook: `codebook` "study"
    (the study's preset) or "empty" (the three dimensions, no categories); none at all
    without `preset`."""
    if codebook not in CODEBOOKS:
        raise ServiceError(f"Unknown codebook '{codebook}'; choose {' or '.join(CODEBOOKS)}.")
    if slug in RESERVED_SLUGS:
        raise ServiceError(f"'{slug}' names a page of the site; choose another slug.")
    taken = Conflict(f"A project with slug '{slug}' already exists.")
    if Project.objects.filter(slug=slug).exists():
        raise taken
    try:
        with transaction.atomic():
            project = Project.objects.create(name=name, slug=slug, **fields)
    except IntegrityError:
        raise taken from None  # a concurrent request took the slug first
    if owner is not None:
        Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    if preset:
        load_preset(project=project, user=owner, preset=CODEBOOKS[codebook][0])
    return project


def _create_tree(dimensions: dict[str, Dimension], preset) -> int:
    """Add the preset's missing categories under `dimensions` (by key), one bulk insert per
    tree depth: a category is matched by dimension, parent and name, as before, and a new
    one gets the order, depth and path the row-by-row walk gave it. Returns the count."""
    existing = {
        (category.dimension_id, category.parent_id, category.name): category
        for category in Category.objects.filter(dimension__in=dimensions.values())
    }
    # (dimension, parent or None, order, node) for each node of the level being inserted.
    level = [
        (dimensions[key], None, order, node)
        for key, _name, _description, tree in preset
        for order, node in enumerate(tree)
    ]
    created = 0
    depth = 1
    while level:
        placed, new = [], []
        for dimension, parent, order, (name, description, children) in level:
            category = existing.get((dimension.pk, parent.pk if parent else None, name))
            if category is None:
                category = Category(
                    dimension=dimension,
                    parent=parent,
                    name=name,
                    description=description,
                    order=order,
                    depth=depth,
                    path=name if parent is None else f"{parent.path}{PATH_SEPARATOR}{name}",
                )
                new.append(category)
                existing[(dimension.pk, category.parent_id, name)] = category
            placed.append((dimension, category, children))
        Category.objects.bulk_create(new)
        created += len(new)
        level = [
            (dimension, category, order, child)
            for dimension, category, children in placed
            for order, child in enumerate(children)
        ]
        depth += 1
    return created


@transaction.atomic
def load_preset(*, project: Project, user=None, preset=STUDY_PRESET) -> int:
    """Load a codebook preset into `project`. Idempotent: existing dimensions and categories
    are kept, missing ones added. Returns the number of categories created.

    Rows go in by bulk inserts (the dimensions, then one insert per depth of the trees):
    every new project loads the preset, and row by row it cost some 360 queries."""
    keys = [key for key, _name, _description, _tree in preset]
    dimensions = {d.key: d for d in project_dimensions(project).filter(key__in=keys)}
    missing = [
        Dimension(project=project, key=key, name=name, description=description, order=order)
        for order, (key, name, description, _tree) in enumerate(preset)
        if key not in dimensions
    ]
    dimensions.update((d.key, d) for d in Dimension.objects.bulk_create(missing))
    created = _create_tree(dimensions, preset)
    if created:
        Project.objects.filter(pk=project.pk).update(codebook_version=project.codebook_version)
        CodebookChange.objects.create(
            project=project,
            version=project.codebook_version,
            kind=CodebookChange.Kind.PRESET,
            payload={"categories_created": created},
            user=user,
        )
    return created


def ensure_user(*, username: str):
    """The user called `username`, created with a one-time password when missing.

    Returns (user, NewUser or None)."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, None
    if not username or len(username) > 150:
        raise ServiceError(f"'{username}' is not a valid username.")
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=username, password=password)
    return user, NewUser(username=username, password=password)


@transaction.atomic
def add_member(*, project: Project, username: str, role: str) -> NewUser | None:
    """Give `username` `role` in `project`, creating the user when missing.

    Returns the new user's one-time password when a user was created. Idempotent for
    existing members (their role is updated)."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role '{role}'; choose one of {', '.join(Role.values)}.")
    user, created = ensure_user(username=username)
    Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return created


@transaction.atomic
def remove_member(*, project: Project, membership_id: int) -> None:
    """Remove a membership; the last owner of a project cannot be removed."""
    membership = project_members(project).select_for_update().get(pk=membership_id)
    if leaves_no_owner(project, membership):
        raise ServiceError("A project needs at least one owner.")
    membership.delete()


@transaction.atomic
def change_role(*, project: Project, membership_id: int, role: str) -> Membership:
    """Change a member's role; the last owner keeps theirs."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role '{role}'.")
    membership = project_members(project).select_for_update().get(pk=membership_id)
    if leaves_no_owner(project, membership, role):
        raise ServiceError("A project needs at least one owner.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def get_or_create_project(
    *, slug: str, owner_username: str | None, name: str | None = None
) -> Project:
    """The contract's rule for commands: an existing project, or a new one with the study's
    preset when an owner is named; otherwise a ServiceError that says so. A new project is
    named ``name``, else its slug as given: a name made from the slug ("Open Llm
    Failures") reads as a typo of the real one (issue #15)."""
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        return project
    if not owner_username:
        raise ServiceError(
            f"Project '{slug}' does not exist. Pass --owner USERNAME to create it "
            "with the study's preset codebook."
        )
    User = get_user_model()
    owner = User.objects.filter(username=owner_username).first()
    if owner is None:
        raise ServiceError(f"User '{owner_username}' does not exist; create it with add_member.")
    return create_project(name=(name or "").strip() or slug, slug=slug, owner=owner)


# ----- invitations -----------------------------------------------------------------------
@transaction.atomic
def invite_member(
    *, project: Project, role: str, created_by, username: str = "", email: str = ""
) -> tuple[Invitation, str]:
    """A single-use invitation link to `project` as `role`, optionally addressed to a
    username or an e-mail address. Returns the invitation and its token (shown once; only
    its hash is stored). Never looks the addressee up, so the reply is the same whether an
    account of that name exists or not. A second open invitation to the same addressee
    (even from a concurrent request) is a Conflict."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role '{role}'; choose one of {', '.join(Role.values)}.")
    now = timezone.now()
    addressed = {k: v for k, v in (("username", username), ("email", email.lower())) if v}
    taken = Conflict(
        "An open invitation to "
        + " / ".join(f"'{v}'" for v in addressed.values())
        + " exists already; revoke it to send a new one."
    )
    for field, value in addressed.items():
        open_ones = open_invitations(project).filter(**{field: value})
        # An expired invitation no longer holds the addressee's place.
        open_ones.filter(expires_at__lte=now).update(revoked_at=now)
        if open_ones.exists():
            raise taken
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                project=project,
                role=role,
                token_hash=Invitation.hash_token(token),
                username=username,
                email=email.lower(),
                created_by=created_by,
                expires_at=now + timedelta(days=settings.INVITATION_DAYS),
            )
    except IntegrityError:
        raise taken from None  # a concurrent request invited the same addressee first
    return invitation, token


@transaction.atomic
def revoke_invitation(*, invitation: Invitation) -> None:
    """Revoke a pending invitation. Idempotent; a used invitation stays used."""
    Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def _lock_open_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("project")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationGone("This invitation link is not valid.")
    problem = invitation.problem()
    if problem:
        raise InvitationGone(problem)
    return invitation


def _join(invitation: Invitation, user) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        project=invitation.project, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_by, invitation.accepted_at = user, timezone.now()
    invitation.save(update_fields=["accepted_by", "accepted_at"])
    return membership


@transaction.atomic
def accept_invitation(*, token: str, user) -> Membership:
    """`user` joins the invitation's project with its role (a member keeps the role they
    have). Single use: the invitation's row lock makes concurrent accepts take turns."""
    invitation = _lock_open_invitation(token)
    if invitation.username and invitation.username != user.username:
        raise ServiceError("This invitation is addressed to another account.")
    if invitation.email and invitation.email != (user.email or "").lower():
        raise ServiceError("This invitation is addressed to another e-mail address.")
    return _join(invitation, user)


@transaction.atomic
def join_with_new_account(*, token: str, username: str, password: str, email: str = ""):
    """Create an account (Django's password validators apply) and join the invitation's
    project with it. All or nothing: a refused password or a taken name creates nothing."""
    invitation = _lock_open_invitation(token)
    if invitation.username and invitation.username != username:
        raise ServiceError(f"This invitation is for the username '{invitation.username}'.")
    email = invitation.email or email
    User = get_user_model()
    candidate = User(username=username, email=email)
    try:
        candidate.full_clean(exclude=["password"], validate_unique=False)
        validate_password(password, user=candidate)
    except ValidationError as error:
        raise ServiceError(" ".join(error.messages)) from None
    taken = Conflict(f"The username '{username}' is taken; log in to accept the invitation.")
    if User.objects.filter(username=username).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError:
        raise taken from None
    _join(invitation, user)
    return user


# ----- the project's own GitHub token ----------------------------------------------------
def set_github_token(*, project: Project, token: str) -> None:
    """Store (replace) the project's own GitHub token, encrypted; '' clears it. The token is
    never read back through a page or the API."""
    from annotate.sealing import fernet_key, seal

    token = token.strip()
    if token and not (len(token) <= 255 and token.isascii() and token.isprintable()):
        raise ServiceError("A GitHub token is at most 255 visible ASCII characters, no spaces.")
    if " " in token:
        raise ServiceError("A GitHub token is at most 255 visible ASCII characters, no spaces.")
    sealed = seal(token, fernet_key(settings.TOKEN_ENCRYPTION_KEY)) if token else ""
    Project.objects.filter(pk=project.pk).update(github_token_sealed=sealed)
    project.github_token_sealed = sealed


def progress_by_project(project_ids) -> dict[int, dict]:
    """Item counts per state for each project, in one query."""
    result: dict[int, dict] = {}
    rows = (
        items_of_projects(project_ids)
        .values_list("project_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for project_id, state, n in rows:
        entry = result.setdefault(project_id, {"total": 0, "states": {}})
        entry["states"][state] = n
        entry["total"] += n
    for entry in result.values():
        settled = entry["states"].get(Item.State.SETTLED, 0)
        entry["settled"] = settled
        entry["percent"] = round(100 * settled / entry["total"]) if entry["total"] else 0
    return result
