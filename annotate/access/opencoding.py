"""Which category proposals (issue #17) a member sees. A proposal is private to its author
until it is decided or its item is settled, so that blindness holds in the pilot: another
annotator must not learn how a colleague read an item they may still be labeling. Leads
and owners see every proposal (they sort them on the board).
"""

from django.db.models import Q
from django.http import Http404

from annotate.models import CategoryProposal, Item, Membership, Project

from .roles import MANAGERS, has_role


def visible_proposals(project: Project, membership: Membership):
    """The proposals of ``project`` that ``membership`` may read."""
    proposals = CategoryProposal.objects.filter(project=project)
    if has_role(membership, MANAGERS):
        return proposals
    # Decided = pointing at the category it became. A proposal merged into another
    # that is still open has status 'merged' but no category yet: merging is not deciding.
    return proposals.filter(
        Q(author_id=membership.user_id)
        | Q(category__isnull=False)
        | Q(item__state=Item.State.SETTLED)
    )


def get_proposal_for_manager(project: Project, membership: Membership, proposal_id):
    """A proposal of ``project`` for a lead or owner's decision; 404 for a stranger's id.
    The caller has checked the role (require_role)."""
    try:
        pk = int(proposal_id)
    except (TypeError, ValueError):
        raise Http404("No such proposal.") from None
    proposal = visible_proposals(project, membership).filter(pk=pk).first()
    if proposal is None:
        raise Http404("No such proposal.")
    return proposal
