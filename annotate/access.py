"""Every project- or permission-scoped fetch goes through here.

Non-members get 404 (a project's existence is not revealed); members whose role is
too low get 403.
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404

from annotate.models import (
    Annotation,
    AnnotationLabel,
    AnnotationRound,
    AnnotationRoundLabel,
    Assignment,
    AuditEvent,
    Category,
    CodebookChange,
    Conflict,
    Dimension,
    FinalLabel,
    FinalRecordLabel,
    ImportJob,
    Invitation,
    Item,
    Membership,
    Project,
    Release,
    Role,
)
from mining.models import Issue, ProjectRepository

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


# --- label sources, report names, and project rows by model ---

# How each model reaches its project (analysis.agreement_counts' SQL joins on its id).
PROJECT_PATHS = {
    Item: "project",
    Membership: "project",
    Assignment: "item__project",
    Dimension: "project",
    Category: "dimension__project",
    CodebookChange: "project",
    AuditEvent: "project",
    Conflict: "project",
    Annotation: "item__project",
    AnnotationLabel: "item__project",
    AnnotationRound: "item__project",
    AnnotationRoundLabel: "item__project",
    FinalLabel: "item__project",
    FinalRecordLabel: "item__project",
}


def project_rows(model, project):
    """Every row of ``model`` that belongs to ``project``, as a queryset to narrow further
    (a model missing from PROJECT_PATHS is a KeyError: no unscoped read slips through)."""
    return model.objects.filter(**{PROJECT_PATHS[model]: project})


# Who reads the agreement report and what is built from it (the methods section): leads
# and owners. Every member reads the distributions, through label_source_access.
AGREEMENT_READERS = MANAGERS


def get_project_for_agreement(user, slug: str) -> tuple[Project, Membership]:
    """The project and the caller's membership, for a reader of its agreement report and
    methods section; 404 for non-members, 403 for annotators."""
    return get_project_for_user(user, slug, roles=AGREEMENT_READERS)


@dataclass
class SourceAccess:
    """The labels a member reads through a ``source=``: ``user`` None for the final labels,
    else that member's own labels; ``settled_only`` keeps the settled items alone."""

    user: object = None
    settled_only: bool = False


def label_source_access(project: Project, membership: Membership, source) -> SourceAccess | None:
    """Who may read which labels (``source``: kind "final" or "annotator", and a username):
    every member the final labels; leads and owners any member's own labels; an annotator
    only their own, and only of settled items. None when a lead or owner names nobody (while
    names are hidden, a real username answers as a name nobody has, see find_annotator)."""
    if source.kind == "final":
        return SourceAccess()
    if membership.role == Role.ANNOTATOR:
        if find_annotator(project, membership, source.username) != membership.user:
            raise PermissionDenied("Annotators may read only their own labels.")
        return SourceAccess(user=membership.user, settled_only=True)
    if membership.role not in MANAGERS:
        raise PermissionDenied("Your role in this project does not allow this.")
    user = find_annotator(project, membership, source.username)
    return None if user is None else SourceAccess(user=user)


def final_records_in_scope(project: Project):
    """The records of the project's final labels; out-of-scope final labels carry none."""
    return project_rows(FinalRecordLabel, project).filter(final__out_of_scope=False)


def source_label_rows(project: Project, *, final: bool, user=None, settled_only: bool = False):
    """The label rows a source reads: the final records in scope, or ``user``'s own records
    (of settled items only, with ``settled_only``). ``user`` and ``settled_only`` come from
    label_source_access."""
    if final:
        return final_records_in_scope(project)
    labels = project_rows(AnnotationLabel, project).filter(annotator=user)
    if settled_only:
        labels = labels.filter(item__state=Item.State.SETTLED)
    return labels


def labels_in_group(labels, group: str):
    """The label rows of items whose repository the items' project puts in ``group``: the
    project's own grouping, never another project's of the same repository."""
    return labels.filter(
        item__issue__repository__views__project=F("item__project"),
        item__issue__repository__views__group=group,
    )


def repository_groups(project: Project) -> list[str]:
    """The project's own groups of the repositories its items come from, sorted; another
    project's grouping of the same repository never counts."""
    views = ProjectRepository.objects.filter(
        project=project, repository__issues__items__project=project
    ).exclude(group="")
    return sorted(set(views.values_list("group", flat=True)))


def report_name(project: Project, user_id: int, username: str) -> str:
    """How the project's reports (agreement, methods section) name an annotator, whoever
    reads them: the username, or while the project hides names the stable pseudonym of the
    exports."""
    from annotate.access import pseudonym

    return pseudonym(project.pk, user_id) if project.hide_annotator_names else username


def report_names(project: Project, user_ids) -> dict:
    """report_name of each of ``user_ids``: {user id: name}. The pseudonyms are the stable
    ones of the exports and the methods section: a number by rank among the annotators a
    filtered report happens to see would name different people alike in different views."""
    from django.contrib.auth import get_user_model

    from annotate.access import pseudonym

    ids = list(user_ids)
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    if project.hide_annotator_names:
        names = {pk: pseudonym(project.pk, pk) for pk in ids}
    return names


# --- roles, and a project's rows by name ---
# Each takes a project the caller already reached through get_project_for_user (or that a
# service received from such a view); tests/security/test_one_door.py holds callers to it.
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


def pending_invitations(project: Project):
    """Invitations of `project` whose link still works (owners list them)."""
    return Invitation.objects.filter(project=project).pending()


def open_invitations(project: Project):
    """Invitations of `project` neither accepted nor revoked, expired ones included: each
    holds its addressee's place until revoked."""
    return Invitation.objects.filter(
        project=project, accepted_at__isnull=True, revoked_at__isnull=True
    )


def project_items(project: Project):
    """Every item of `project`, for counts every member sees and for managers; which items
    an annotator may open is the visible-items rule (get_item_for_user)."""
    return Item.objects.filter(project=project)


def items_of_projects(project_ids):
    """Every item of the projects `project_ids` (the caller's own, for their progress)."""
    return Item.objects.filter(project_id__in=project_ids)


def project_dimensions(project: Project):
    return Dimension.objects.filter(project=project)


def project_categories(project: Project):
    """The categories of `project`'s codebook, retired ones included (every member reads
    the codebook; leads edit it)."""
    return Category.objects.filter(dimension__project=project)


def codebook_changes(project: Project):
    return CodebookChange.objects.filter(project=project)


def project_issues(project: Project):
    """The mined issues `project` has items of (their text through mining's TextAccess)."""
    return Issue.objects.filter(items__project=project)


def own_assignments(project: Project, user):
    """The user's own assignments in `project`: never another annotator's."""
    return Assignment.objects.filter(item__project=project, annotator=user)


def own_annotations(project: Project, user):
    """The user's own annotations in `project`: never another annotator's."""
    return Annotation.objects.filter(item__project=project, annotator=user)


def project_annotations(project: Project):
    """Every annotation of `project`: for leads and owners (names per names_hidden_from)."""
    return Annotation.objects.filter(item__project=project)


def settled_final_labels(project: Project):
    """The final labels of `project`'s settled items, which every member may read."""
    return FinalLabel.objects.filter(item__project=project, item__state=Item.State.SETTLED)


def final_record_labels(project: Project):
    return FinalRecordLabel.objects.filter(item__project=project)


def project_releases(project: Project):
    """The releases of `project` (every member reads and downloads them)."""
    return Release.objects.filter(project=project)


def get_release(project: Project, version: str) -> Release:
    """Release `version` of `project`; 404 otherwise."""
    try:
        return (
            project_releases(project).select_related("project", "created_by").get(version=version)
        )
    except Release.DoesNotExist:
        raise Http404("No such release.") from None


def project_import_jobs(project: Project):
    """The import jobs of `project` (its owners, who start imports, list them)."""
    return ImportJob.objects.filter(project=project)


# --- labeling and adjudication ---


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


# --- a project's own views of repositories (another project's grouping never counts) ---


def all_repository_views(project):
    """Every view `project` (or project id) holds of a repository, mined or not (the mined
    ones, in name order, for the pages: mining.access.project_repository_views)."""
    return ProjectRepository.objects.filter(project=project)


def repository_views_with_items(project: Project):
    """The project's own views of the repositories its items come from, the empty group
    included (a release counts the groups of its dataset)."""
    return all_repository_views(project).filter(repository__issues__items__project=project)
