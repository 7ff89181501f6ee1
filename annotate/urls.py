from django.urls import include, path

from . import views

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
    path("projects/<slug:slug>/codebook/", views.codebook, name="codebook"),
    # Each concern keeps its own routes (pages and API) beside its views.
    path("", include("annotate.urls_labeling")),
    path("", include("annotate.urls_adjudication")),
    path("", include("annotate.urls_dataset")),
    path("", include("annotate.projects.pool_urls")),
]
