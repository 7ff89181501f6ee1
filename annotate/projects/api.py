"""REST resources of projects: the caller's projects, one project, its GitHub token, its
members and invitations."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotate.access import (
    OWNERS,
    check_can_create_projects,
    get_invitation_for_owner,
    pending_invitations,
    project_members,
    require_role,
    user_projects_with_role,
)
from annotate.api.base import CONFLICT, ERRORS, ApiMixin, ProjectScoped, listing
from annotate.models import (
    Invitation,
    Project,
    Role,
)
from annotate.projects import services
from annotate.projects.serializers import (
    GitHubTokenSerializer,
    GitHubTokenStateSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MemberCreateSerializer,
    MemberSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    RoleSerializer,
)


@listing(ProjectSerializer)
class ProjectList(ApiMixin, generics.ListCreateAPIView):
    """The caller's projects; POST creates one with the caller as its owner (staff only,
    unless settings.PROJECT_CREATION is "everyone")."""

    serializer_class = ProjectSerializer
    queryset = Project.objects.none()

    def get_queryset(self):
        return user_projects_with_role(self.request.user)

    @extend_schema(
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, *args, **kwargs):
        check_can_create_projects(request.user)
        form = ProjectCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        project = services.create_project(owner=request.user, **form.validated_data)
        project.role = Role.OWNER
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: ProjectSerializer, **ERRORS})
class ProjectDetail(ProjectScoped, generics.GenericAPIView):
    serializer_class = ProjectSerializer

    def get(self, request, slug):
        self.project.role = self.membership.role
        return Response(ProjectSerializer(self.project).data)


class GitHubTokenDetail(ProjectScoped, APIView):
    """Owners set, replace (PUT) or clear (DELETE) the project's own GitHub token. It is
    stored encrypted and never returned: replies say only whether one is set."""

    roles = OWNERS

    @extend_schema(
        request=GitHubTokenSerializer, responses={200: GitHubTokenStateSerializer, **ERRORS}
    )
    def put(self, request, slug):
        form = GitHubTokenSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.set_github_token(project=self.project, token=form.validated_data["token"])
        return Response({"github_token_set": self.project.has_github_token})

    @extend_schema(responses={200: GitHubTokenStateSerializer, **ERRORS})
    def delete(self, request, slug):
        services.set_github_token(project=self.project, token="")
        return Response({"github_token_set": False})


@listing(MemberSerializer)
class MemberList(ProjectScoped, generics.ListAPIView):
    """Members of the project; owners add people by invitation (the invitee accepts)."""

    serializer_class = MemberSerializer
    queryset = Project.objects.none()

    def get_queryset(self):
        return project_members(self.project).select_related("user")

    @extend_schema(
        request=MemberCreateSerializer,
        responses={201: InvitationCreatedSerializer, **ERRORS, **CONFLICT},
        description="Invites `username` with `role`: a single-use link the invitee opens to "
        "join (signing up if they have no account). The reply is the same whether an account "
        "of that name exists or not, and nobody becomes a member without accepting.",
    )
    def post(self, request, slug):
        require_role(self.membership, OWNERS, "Only owners manage members.")
        form = MemberCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return invitation_reply(request, self.project, form.validated_data)


def invitation_reply(request, project, data) -> Response:
    invitation, token = services.invite_member(project=project, created_by=request.user, **data)
    invitation.url = request.build_absolute_uri(reverse("invitation", args=[token]))
    return Response(InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)


@listing(InvitationSerializer)
class InvitationList(ProjectScoped, generics.ListAPIView):
    """Owners list the project's pending invitations and create new ones."""

    roles = OWNERS
    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Invitation.objects.none()
        return pending_invitations(self.project).select_related("created_by")

    @extend_schema(
        request=InvitationCreateSerializer,
        responses={201: InvitationCreatedSerializer, **ERRORS, **CONFLICT},
    )
    def post(self, request, slug):
        form = InvitationCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return invitation_reply(request, self.project, form.validated_data)


class InvitationDetail(ProjectScoped, APIView):
    """Owners revoke a pending invitation (its link stops working)."""

    roles = OWNERS

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, slug, invitation_id):
        invitation = get_invitation_for_owner(request.user, self.project, invitation_id)
        services.revoke_invitation(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberDetail(ProjectScoped, generics.GenericAPIView):
    """Owners change a member's role or remove them; the last owner stays."""

    roles = OWNERS
    serializer_class = MemberSerializer

    def member(self, membership_id):
        return get_object_or_404(
            project_members(self.project).select_related("user"), pk=membership_id
        )

    @extend_schema(request=RoleSerializer, responses={200: MemberSerializer, **ERRORS})
    def patch(self, request, slug, membership_id):
        self.member(membership_id)
        form = RoleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.change_role(
            project=self.project, membership_id=membership_id, role=form.validated_data["role"]
        )
        return Response(MemberSerializer(self.member(membership_id)).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, slug, membership_id):
        self.member(membership_id)
        services.remove_member(project=self.project, membership_id=membership_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
