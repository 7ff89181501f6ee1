"""The pool builder's route (its path and name stay the miner's, where its navigation
links to it)."""

from django.urls import path

from annotate.projects import pool_views

urlpatterns = [
    path("projects/<slug:slug>/mining/pool/", pool_views.pool_builder, name="mining-pool"),
]
