"""Who sees precedents (issue #19) and which items they are drawn from.

Precedents are settled items and their final labels, which every member may read
(`settled_final_labels`). What they must not do is prompt an annotator before their own
judgment: an annotator sees an item's precedents only once they submitted their own
annotation of it. Leads and owners see them on the conflict page. Only the text of
issues the project may read takes part (a private repository another project fetched
would otherwise tell, by a match, what its issues say)."""

from django.db.models import Q

from annotate.access.rows import own_annotations, project_items, project_rows
from annotate.models import ConsistencyReview, Item, Membership, Role
from mining.models import Issue, ProjectRepository


def may_see_precedents(user, membership: Membership, item: Item, own=None) -> bool:
    """Leads and owners always; an annotator once their own annotation of `item` is in.
    `own` is that annotation when the caller already read it (it saves a query)."""
    if membership.role != Role.ANNOTATOR:
        return True
    if own is not None:
        return own.item_id == item.pk and own.annotator_id == user.pk
    return own_annotations(membership.project_id, user).filter(item=item).exists()


def _readable(project) -> Q:
    fetched = ProjectRepository.objects.filter(project=project, fetched_at__isnull=False)
    return Q(repository__private=False) | Q(repository__in=fetched.values("repository_id"))


def settled_items(project):
    """The settled items of `project` (final labels every member may read)."""
    return project_items(project).filter(state=Item.State.SETTLED)


def precedent_issues(project):
    """The readable issues of `project`'s settled items: where precedents come from."""
    issues = Issue.objects.filter(pk__in=settled_items(project).values("issue_id"))
    return issues.filter(_readable(project))


def item_issues(project):
    """The readable issues of every item of `project` (similar items for its managers)."""
    issues = Issue.objects.filter(pk__in=project_items(project).values("issue_id"))
    return issues.filter(_readable(project))


def consistency_reviews(project):
    return project_rows(ConsistencyReview, project)


def similar_item_scope(project, membership: Membership):
    """(issues, items) among which a member looks for similar items: an annotator only
    settled ones (precedents), leads and owners every item (labels shown only for settled
    ones, by the caller)."""
    if membership.role == Role.ANNOTATOR:
        return precedent_issues(project), settled_items(project)
    return item_issues(project), project_items(project)
