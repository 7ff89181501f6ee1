"""REST resources of open coding (issue #17): a member's visible proposals and new ones,
the lead's board decisions, and the project's phase."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    MANAGERS,
    get_held_item,
    get_proposal_for_manager,
    project_categories,
    project_dimensions,
    require_role,
    visible_proposals,
)
from annotate.api.base import ERRORS, ProjectScoped
from annotate.opencoding import services
from annotate.opencoding.serializers import (
    BoardDecisionSerializer,
    PhaseSerializer,
    ProposalInputSerializer,
    ProposalSerializer,
)


def dimension_and_parent(project, key: str, parent_id):
    dimension = project_dimensions(project).filter(key=key).first()
    if dimension is None:
        raise services.OpenCodingError(f"No dimension '{key}' in this project.")
    parent = None
    if parent_id is not None:
        parent = project_categories(project).filter(pk=parent_id, dimension=dimension).first()
        if parent is None:
            raise services.OpenCodingError("The parent is not a category of that dimension.")
    return dimension, parent


class ProposalList(ProjectScoped, APIView):
    # The caller's proposals as one list (at most 1,000), not a page: the schema must not
    # describe it as paginated (it answered off-schema under the API fuzzer).
    pagination_class = None

    """Proposals the caller may read (their own, decided ones, those of settled items;
    leads and owners: all), and a new proposal in the pilot phase."""

    @extend_schema(responses={200: ProposalSerializer(many=True), **ERRORS})
    def get(self, request, slug):
        rows = visible_proposals(self.project, self.membership).select_related(
            "dimension", "author", "category"
        )
        return Response(ProposalSerializer(rows[:1000], many=True).data)

    @extend_schema(request=ProposalInputSerializer, responses={201: ProposalSerializer, **ERRORS})
    def post(self, request, slug):
        form = ProposalInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        item = get_held_item(request.user, self.project, data["item"])
        dimension, parent = dimension_and_parent(
            self.project, data["dimension"], data.get("parent")
        )
        proposal = services.propose_category(
            project=self.project, author=request.user, item=item, dimension=dimension,
            parent=parent, name=data["name"], definition=data["definition"],
            evidence=data["evidence"], record=data["record"],
        )  # fmt: skip
        return Response(ProposalSerializer(proposal).data, status=201)


class ProposalDecision(ProjectScoped, APIView):
    """A lead's decision on a proposal: merge others into it, map it onto a category, or
    promote it into the codebook (a new version)."""

    roles = MANAGERS

    @extend_schema(request=BoardDecisionSerializer, responses={200: ProposalSerializer, **ERRORS})
    def post(self, request, slug, proposal_id):
        proposal = get_proposal_for_manager(self.project, self.membership, proposal_id)
        form = BoardDecisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        decide(self.project, self.membership, request.user, proposal, data)
        proposal.refresh_from_db()
        return Response(ProposalSerializer(proposal).data)


def decide(project, membership, actor, proposal, data) -> None:
    """Run one board decision (shared by the API and the board page)."""
    if data["action"] == "merge":
        try:
            sources = [
                get_proposal_for_manager(project, membership, pk) for pk in data["proposals"]
            ]
        except Http404:
            raise services.OpenCodingError(
                "One of the proposals to merge does not exist."
            ) from None
        services.merge_proposals(project=project, actor=actor, target=proposal, sources=sources)
    elif data["action"] == "map":
        raw = str(data.get("category") or "")
        category = (
            project_categories(project).filter(pk=int(raw)).first() if raw.isdigit() else None
        )
        if category is None:
            raise services.OpenCodingError("Choose the category to map the proposal onto.")
        services.map_proposal(project=project, actor=actor, proposal=proposal, category=category)
    else:
        services.promote_proposal(
            project=project, actor=actor, proposal=proposal, name=data.get("name") or "",
            definition=data.get("definition"),
        )  # fmt: skip


class Phase(ProjectScoped, APIView):
    """The project's phase: pilot (open coding, proposals allowed) or main (closed)."""

    @extend_schema(responses={200: PhaseSerializer, **ERRORS})
    def get(self, request, slug):
        return Response(_phase(self.project))

    @extend_schema(request=PhaseSerializer, responses={200: PhaseSerializer, **ERRORS})
    def post(self, request, slug):
        require_role(self.membership, MANAGERS)
        form = PhaseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        project = services.switch_phase(
            project=self.project, actor=request.user, phase=form.validated_data["phase"]
        )
        return Response(_phase(project))


def _phase(project) -> dict:
    return {"phase": project.phase, "codebook_version": project.codebook_version,
            "main_since_version": project.main_since_version}  # fmt: skip
