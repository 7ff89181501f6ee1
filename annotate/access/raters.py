"""Machine raters behind the one door: who may manage them (leads and owners), and the one
place where a human may see a machine's labels on an item (a lead adjudicating it, when the
project allows it). No other page or endpoint reads RaterLabel per item: annotators never
see a machine's labels, before or after they submit.
"""

from django.http import Http404

from annotate.access.roles import MANAGERS, get_project_for_user, has_role
from annotate.access.rows import project_rows
from annotate.models import Item, Membership, Project, Rater, RaterLabel, RaterRun

RATER_MANAGERS = MANAGERS
# The states in which a lead adjudicates an item (every annotation is in).
ADJUDICATED_STATES = (Item.State.CONFLICT, Item.State.DISCUSSION, Item.State.SETTLED)


def get_project_for_raters(user, slug: str) -> tuple[Project, Membership]:
    """The project, for its leads and owners (who add and run raters); 404 for non-members,
    403 for annotators."""
    return get_project_for_user(user, slug, roles=RATER_MANAGERS)


def project_raters(project: Project):
    return project_rows(Rater, project)


def project_rater_runs(project: Project):
    return project_rows(RaterRun, project)


def get_rater_for_user(user, slug: str, rater_id) -> tuple[Project, Membership, Rater]:
    """A rater of project `slug`, for its leads and owners; 404 for another project's."""
    project, membership = get_project_for_raters(user, slug)
    try:
        return project, membership, project_raters(project).get(pk=int(rater_id))
    except (Rater.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such rater.") from None


def get_rater_run(rater: Rater, run_id) -> RaterRun:
    """A run of `rater` (already reached through get_rater_for_user); 404 otherwise."""
    try:
        return RaterRun.objects.get(rater=rater, pk=int(run_id))
    except (RaterRun.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such run.") from None


def machine_labels(project: Project):
    """Every label of the project's rater runs, for the agreement statistics (which show
    counts and rates, never an item's labels) and the workers that write them."""
    return project_rows(RaterLabel, project)


def latest_finished_runs(runs) -> dict:
    """{rater id: its latest finished run} among `runs` (a queryset of one project's)."""
    latest = {}
    for run in runs.filter(status=RaterRun.Status.SUCCEEDED).order_by("rater_id", "-number"):
        latest.setdefault(run.rater_id, run)
    return latest


def rater_labels_for_adjudication(project: Project, membership: Membership, item: Item):
    """The machine labels a lead may see beside the annotators' on `item`: only for leads
    and owners, only once every annotation is in (the item is in conflict, discussion or
    settled), only from raters the project shows in adjudication, and only each rater's
    latest finished run. An empty list otherwise."""
    if not has_role(membership, MANAGERS) or item.state not in ADJUDICATED_STATES:
        return []
    runs = latest_finished_runs(
        project_rater_runs(project).filter(rater__visible_in_adjudication=True)
    )
    return list(
        RaterLabel.objects.filter(run__in=[run.pk for run in runs.values()], item=item)
        .select_related("run__rater", "dimension", "category")
        .order_by("run__rater__name", "record", "dimension__order")
    )
