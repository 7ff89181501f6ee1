"""Adjudication: the lead's conflict pages and their API (included by annotate/urls.py)."""

from django.urls import path

from annotate.adjudication import api, inbox_api, inbox_views, views

P = "projects/<slug:slug>/"
API = "api/projects/<slug:slug>/"

urlpatterns = [
    path(P + "conflicts/", views.conflict_queue, name="conflict-queue"),
    path(P + "conflicts/<int:item_id>/", views.conflict_detail, name="conflict-detail"),
    path(
        P + "conflicts/<int:item_id>/precedents/",
        views.conflict_precedents,
        name="conflict-precedents",
    ),
    path(P + "conflicts/<int:item_id>/decide/", views.conflict_decide, name="conflict-decide"),
    path(P + "conflicts/<int:item_id>/discuss/", views.conflict_discuss, name="conflict-discuss"),
    path(
        P + "conflicts/<int:item_id>/end-discussion/",
        views.conflict_end_discussion,
        name="conflict-end-discussion",
    ),
    path(P + "items/<int:item_id>/reopen/", views.item_reopen, name="item-reopen"),
    path(P + "items/<int:item_id>/history/", views.item_history, name="item-history"),
    path(P + "inbox/", inbox_views.inbox, name="inbox"),
    path(
        P + "items/<int:item_id>/discussion/",
        inbox_views.item_discussion,
        name="item-discussion",
    ),
    path(
        API + "items/<int:item_id>/discussion/",
        inbox_api.DiscussionView.as_view(),
        name="api-item-discussion",
    ),
    path(
        API + "items/<int:item_id>/adjudication/",
        api.AdjudicationView.as_view(),
        name="api-item-adjudication",
    ),
    path(API + "conflicts/", api.ConflictListView.as_view(), name="api-conflicts"),
    path(
        API + "items/<int:item_id>/history/", api.ItemHistoryView.as_view(), name="api-item-history"
    ),
]
