"""Multi-step work on projects, members and the codebook."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from .models import Category, CodebookChange, Dimension, Membership, Project, Role
from .presets import STUDY_PRESET


class ServiceError(Exception):
    """A problem with the caller's input; the message names it."""


class Conflict(ServiceError):
    """The input clashes with something that exists (often a concurrent duplicate): 409."""


# /projects/new/ is the new-project page, not a project.
RESERVED_SLUGS = frozenset({"new"})


@dataclass
class NewUser:
    username: str
    password: str


@transaction.atomic
def create_project(*, name: str, slug: str, owner=None, preset: bool = True, **fields) -> Project:
    """Create a project, make `owner` its owner and load the study's preset codebook."""
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
        load_preset(project=project, user=owner)
    return project


def _create_tree(dimension: Dimension, nodes, parent: Category | None, depth: int) -> int:
    created = 0
    for order, (name, description, children) in enumerate(nodes):
        category, was_created = Category.objects.get_or_create(
            dimension=dimension,
            parent=parent,
            name=name,
            defaults={
                "description": description,
                "order": order,
                "depth": depth,
                "path": name if parent is None else f"{parent.path} > {name}",
            },
        )
        created += int(was_created)
        created += _create_tree(dimension, children, category, depth + 1)
    return created


@transaction.atomic
def load_preset(*, project: Project, user=None, preset=STUDY_PRESET) -> int:
    """Load a codebook preset into `project`. Idempotent: existing dimensions and categories
    are kept, missing ones added. Returns the number of categories created."""
    created = 0
    for order, (key, name, description, tree) in enumerate(preset):
        dimension, _ = Dimension.objects.get_or_create(
            project=project,
            key=key,
            defaults={"name": name, "description": description, "order": order},
        )
        created += _create_tree(dimension, tree, None, 1)
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
    membership = Membership.objects.select_for_update().get(project=project, pk=membership_id)
    if (
        membership.role == Role.OWNER
        and not project.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()
    ):
        raise ServiceError("A project needs at least one owner.")
    membership.delete()


@transaction.atomic
def change_role(*, project: Project, membership_id: int, role: str) -> Membership:
    """Change a member's role; the last owner keeps theirs."""
    if role not in Role.values:
        raise ServiceError(f"Unknown role '{role}'.")
    membership = Membership.objects.select_for_update().get(project=project, pk=membership_id)
    if (
        membership.role == Role.OWNER
        and role != Role.OWNER
        and not project.memberships.filter(role=Role.OWNER).exclude(pk=membership.pk).exists()
    ):
        raise ServiceError("A project needs at least one owner.")
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


def get_or_create_project(*, slug: str, owner_username: str | None) -> Project:
    """The contract's rule for commands: an existing project, or a new one with the study's
    preset when an owner is named; otherwise a ServiceError that says so."""
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
    return create_project(name=slug.replace("-", " ").title(), slug=slug, owner=owner)
