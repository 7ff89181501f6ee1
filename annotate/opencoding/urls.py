"""Open coding: the proposal panel, the card-sort board, the phase, and their API."""

from django.urls import path

from annotate.opencoding import api, views

P = "projects/<slug:slug>/"
API = "api/projects/<slug:slug>/"

urlpatterns = [
    path(P + "items/<int:item_id>/proposals/", views.proposal_panel, name="opencoding-panel"),
    path(P + "board/", views.board, name="opencoding-board"),
    path(P + "board/<int:proposal_id>/decide/", views.board_decide, name="opencoding-decide"),
    path(P + "phase/", views.phase_switch, name="opencoding-phase"),
    path(API + "proposals/", api.ProposalList.as_view(), name="api-proposals"),
    path(
        API + "proposals/<int:proposal_id>/decision/",
        api.ProposalDecision.as_view(),
        name="api-proposal-decision",
    ),
    path(API + "phase/", api.Phase.as_view(), name="api-phase"),
]
