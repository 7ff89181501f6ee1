"""Routes of the dataset concern: the generic REST resources, export, import, releases,
and their pages."""

from django.urls import path

from . import api, views_dataset

P = "api/projects/<slug:slug>/"

urlpatterns = [
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
    path(P + "codebook/", api.CodebookDetail.as_view(), name="api-codebook"),
    path(
        P + "codebook/categories/<int:category_id>/",
        api.CategoryDetail.as_view(),
        name="api-category",
    ),
    path(P + "issues/", api.IssueList.as_view(), name="api-issues"),
    path(P + "issues/<int:issue_id>/", api.IssueDetail.as_view(), name="api-issue"),
    path(P + "issues/<int:issue_id>/comments/", api.CommentList.as_view(), name="api-comments"),
    path(P + "items/", api.ItemList.as_view(), name="api-items"),
    path(P + "items/<int:item_id>/", api.ItemDetail.as_view(), name="api-item"),
    path(P + "my/assignments/", api.MyAssignmentList.as_view(), name="api-my-assignments"),
    path(P + "my/annotations/", api.MyAnnotationList.as_view(), name="api-my-annotations"),
    path(P + "annotations/", api.AnnotationList.as_view(), name="api-annotations"),
    path(P + "final-labels/", api.FinalLabelList.as_view(), name="api-final-labels"),
    path(P + "export/", api.ExportView.as_view(), name="api-export"),
    path(P + "import/", api.ImportView.as_view(), name="api-import"),
    path(P + "imports/<int:import_id>/", api.ImportJobDetail.as_view(), name="api-import-job"),
    path(P + "releases/", api.ReleaseList.as_view(), name="api-releases"),
    path(P + "releases/<str:version>/", api.ReleaseDetail.as_view(), name="api-release"),
    path(
        P + "releases/<str:version>/download/",
        api.ReleaseDownload.as_view(),
        name="api-release-download",
    ),
    # Pages
    path("projects/<slug:slug>/dataset/", views_dataset.dataset, name="dataset"),
    path("projects/<slug:slug>/import/", views_dataset.import_page, name="dataset-import"),
    path(
        "projects/<slug:slug>/imports/<int:import_id>/",
        views_dataset.import_job_page,
        name="dataset-import-job",
    ),
    path("projects/<slug:slug>/releases/", views_dataset.release_list, name="releases"),
]
