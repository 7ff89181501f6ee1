"""Codebook: the tree page, the lead's editor and review, and the codebook API."""

from django.urls import path

from annotate.codebook import api, views

P = "projects/<slug:slug>/"
API = "api/projects/<slug:slug>/"

urlpatterns = [
    path(P + "codebook/", views.codebook, name="codebook"),
    path(P + "codebook/edit/", views.codebook_edit, name="codebook-edit"),
    path(P + "codebook/review/", views.codebook_review, name="codebook-review"),
    path(API + "codebook/", api.CodebookDetail.as_view(), name="api-codebook"),
    path(
        API + "codebook/categories/<int:category_id>/",
        api.CategoryDetail.as_view(),
        name="api-category",
    ),
]
