"""Which labels a member reads (final labels, their own, any member's), how reports name
annotators, and a project's own repository groups.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef

from annotate.access.roles import MANAGERS, find_annotator, get_project_for_user
from annotate.access.rows import project_rows
from annotate.models import (
    AnnotationLabel,
    FinalRecordLabel,
    Item,
    Membership,
    Project,
    Role,
)
from mining.models import ProjectRepository

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
    # One EXISTS per repository view: a join through every item took 0.26 s at 100,000.
    has_items = Item.objects.filter(project=project, issue__repository=OuterRef("repository"))
    views = (
        ProjectRepository.objects.filter(project=project)
        .exclude(group="")
        .filter(Exists(has_items))
    )
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
