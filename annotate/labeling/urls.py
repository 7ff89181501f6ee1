"""Labeling: the queue pages and their API (included at the root by annotate/urls.py)."""

from django.urls import path

from annotate.labeling import api as api_labeling
from annotate.labeling import views as views_labeling

urlpatterns = [
    path("projects/<slug:slug>/label/", views_labeling.label_next, name="label-next"),
    path("projects/<slug:slug>/label/mine/", views_labeling.label_mine, name="label-mine"),
    path(
        "projects/<slug:slug>/label/progress/",
        views_labeling.label_progress,
        name="label-progress",
    ),
    path(
        "projects/<slug:slug>/label/<int:item_id>/",
        views_labeling.label_item,
        name="label-item",
    ),
    path(
        "projects/<slug:slug>/label/<int:item_id>/skip/",
        views_labeling.label_skip,
        name="label-skip",
    ),
    path(
        "api/projects/<slug:slug>/queue/next/",
        api_labeling.QueueNextView.as_view(),
        name="api-queue-next",
    ),
    path(
        "api/projects/<slug:slug>/items/<int:item_id>/annotations/",
        api_labeling.AnnotationSubmitView.as_view(),
        name="api-annotation-submit",
    ),
    path(
        "api/projects/<slug:slug>/items/<int:item_id>/annotations/mine/",
        api_labeling.MyAnnotationView.as_view(),
        name="api-annotation-mine",
    ),
    path(
        "api/projects/<slug:slug>/items/<int:item_id>/skip/",
        api_labeling.SkipView.as_view(),
        name="api-item-skip",
    ),
    path(
        "api/projects/<slug:slug>/progress/",
        api_labeling.ProgressView.as_view(),
        name="api-labeling-progress",
    ),
]
