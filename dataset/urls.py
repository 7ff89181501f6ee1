"""Routes of publishing: export, import and its jobs, releases; their API and pages."""

from django.urls import path

from dataset import api, views

P = "api/projects/<slug:slug>/"

urlpatterns = [
    # REST
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
    path("projects/<slug:slug>/dataset/", views.dataset, name="dataset"),
    path("projects/<slug:slug>/import/", views.import_page, name="dataset-import"),
    path(
        "projects/<slug:slug>/imports/<int:import_id>/",
        views.import_job_page,
        name="dataset-import-job",
    ),
    path("projects/<slug:slug>/releases/", views.release_list, name="releases"),
]
