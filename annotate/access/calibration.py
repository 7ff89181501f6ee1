"""Who reaches what of calibration (issue #17, analysis.calibration): leads and owners
manage the gold set and the coders in calibration; a coder reads only their own finished
tries, where the gold labels appear. Stranger ids are 404."""

from django.http import Http404

from annotate.models import CalibrationTry, Item, Membership, Project


def _pk(value, what: str) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise Http404(f"No such {what}.") from None
    if not 0 < pk < 2**63:
        raise Http404(f"No such {what}.")
    return pk


def get_member_for_manager(project: Project, membership_id) -> Membership:
    """A membership of ``project`` by its id, for a lead's calibration action."""
    member = (
        Membership.objects.filter(project=project, pk=_pk(membership_id, "member"))
        .select_related("user")
        .first()
    )
    if member is None:
        raise Http404("No such member.")
    return member


def get_item_for_gold(project: Project, item_id) -> Item:
    """An item of ``project`` that a lead may put in (or take out of) the gold set."""
    item = Item.objects.filter(project=project, pk=_pk(item_id, "item")).first()
    if item is None:
        raise Http404("No such item.")
    return item


def get_own_try(project: Project, membership: Membership, number) -> CalibrationTry:
    """The caller's own calibration try ``number`` in ``project``; 404 for anyone else's."""
    attempt = CalibrationTry.objects.filter(
        membership=membership, membership__project=project, number=_pk(number, "try")
    ).first()
    if attempt is None:
        raise Http404("No such try.")
    return attempt
