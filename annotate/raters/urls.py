"""Routes of the machine raters: their page, runs, the adjudication column, and the API."""

from django.urls import path

from annotate.raters import api, views

P = "projects/<slug:slug>/"

urlpatterns = [
    path(P + "raters/", views.rater_list, name="raters"),
    path(P + "raters/<int:rater_id>/edit/", views.rater_edit, name="rater-edit"),
    path(P + "raters/<int:rater_id>/remove/", views.rater_remove, name="rater-remove"),
    path(P + "raters/<int:rater_id>/runs/", views.rater_start, name="rater-start"),
    path(P + "raters/<int:rater_id>/runs/<int:run_id>/", views.rater_run, name="rater-run"),
    path(
        P + "raters/<int:rater_id>/runs/<int:run_id>/resume/",
        views.rater_resume,
        name="rater-resume",
    ),
    path(P + "items/<int:item_id>/machine-labels/", views.machine_column, name="machine-column"),
    path("api/" + P + "raters/", api.RaterList.as_view(), name="api-raters"),
    path("api/" + P + "raters/<int:rater_id>/", api.RaterDetail.as_view(), name="api-rater"),
    path("api/" + P + "raters/<int:rater_id>/runs/", api.RunList.as_view(), name="api-rater-runs"),
    path(
        "api/" + P + "raters/<int:rater_id>/runs/<int:run_id>/",
        api.RunDetail.as_view(),
        name="api-rater-run",
    ),
]
