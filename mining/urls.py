from django.urls import path

from . import api, views

urlpatterns = [
    path(
        "projects/<slug:slug>/mining/repositories/",
        views.repositories,
        name="mining-repositories",
    ),
    path(
        "projects/<slug:slug>/mining/repositories/<int:repository_id>/group/",
        views.repository_group,
        name="mining-repository-group",
    ),
    path("projects/<slug:slug>/mining/jobs/", views.jobs, name="mining-jobs"),
    path("projects/<slug:slug>/mining/jobs/<int:job_id>/", views.job_detail, name="mining-job"),
    path(
        "projects/<slug:slug>/mining/jobs/<int:job_id>/cancel/",
        views.job_cancel,
        name="mining-job-cancel",
    ),
    path(
        "api/projects/<slug:slug>/repositories/",
        api.RepositoryList.as_view(),
        name="api-mining-repositories",
    ),
    path("api/projects/<slug:slug>/jobs/", api.JobList.as_view(), name="api-mining-jobs"),
    path(
        "api/projects/<slug:slug>/jobs/<int:job_id>/",
        api.JobDetail.as_view(),
        name="api-mining-job",
    ),
    path(
        "api/projects/<slug:slug>/jobs/<int:job_id>/start/",
        api.JobStart.as_view(),
        name="api-mining-job-start",
    ),
    path(
        "api/projects/<slug:slug>/jobs/<int:job_id>/cancel/",
        api.JobCancel.as_view(),
        name="api-mining-job-cancel",
    ),
]
