"""Routes of annotate: each concern keeps its pages and API beside its views; this file only
includes them (the dataset app's routes are included by config/urls.py)."""

from django.urls import include, path

urlpatterns = [
    path("", include("annotate.projects.urls")),
    path("", include("annotate.codebook.urls")),
    path("", include("annotate.labeling.urls")),
    path("", include("annotate.adjudication.urls")),
    path("", include("annotate.api.urls")),
    path("", include("annotate.projects.pool_urls")),
    path("", include("annotate.browse.urls")),
    path("", include("annotate.opencoding.urls")),
    path("", include("annotate.raters.urls")),
    path("", include("annotate.precedents.urls")),
]
