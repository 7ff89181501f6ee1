"""The item browser's pages (included by annotate/urls.py)."""

from django.urls import path

from annotate.browse import views

P = "projects/<slug:slug>/"

urlpatterns = [
    path(P + "items/", views.item_list, name="browse-items"),
    path(P + "items/<int:item_id>/", views.item_detail, name="browse-item"),
]
