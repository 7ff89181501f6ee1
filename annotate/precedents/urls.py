"""Routes of precedents: the consistency report's page and the three API endpoints."""

from django.urls import path

from annotate.precedents import api, views

P = "projects/<slug:slug>/"
API = "api/projects/<slug:slug>/"

urlpatterns = [
    path(P + "consistency/", views.consistency, name="consistency"),
    path(
        P + "consistency/<int:item_id>/confirm/",
        views.consistency_confirm,
        name="consistency-confirm",
    ),
    path(API + "items/<int:item_id>/similar/", api.SimilarItemsView.as_view(), name="api-similar"),
    path(API + "duplicates/", api.DuplicateGroupsView.as_view(), name="api-duplicates"),
    path(API + "consistency/", api.ConsistencyView.as_view(), name="api-consistency"),
]
