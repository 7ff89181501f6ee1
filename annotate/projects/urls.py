"""Projects: the home list, a project's pages and settings, invitations, and their API."""

from django.urls import path

from annotate.projects import api, views

P = "api/projects/<slug:slug>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<slug:slug>/", views.project_detail, name="project-detail"),
    path("projects/<slug:slug>/settings/", views.project_settings, name="project-settings"),
    path(
        "projects/<slug:slug>/settings/members/<int:membership_id>/",
        views.member_update,
        name="member-update",
    ),
    path(
        "projects/<slug:slug>/settings/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    # REST
    path("api/projects/", api.ProjectList.as_view(), name="api-projects"),
    path(P, api.ProjectDetail.as_view(), name="api-project"),
    path(P + "github-token/", api.GitHubTokenDetail.as_view(), name="api-github-token"),
    path(P + "members/", api.MemberList.as_view(), name="api-members"),
    path(P + "members/<int:membership_id>/", api.MemberDetail.as_view(), name="api-member"),
    path(P + "invitations/", api.InvitationList.as_view(), name="api-invitations"),
    path(
        P + "invitations/<int:invitation_id>/",
        api.InvitationDetail.as_view(),
        name="api-invitation",
    ),
]
