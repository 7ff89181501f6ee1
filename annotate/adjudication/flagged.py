"""Codebook-flagged decisions: final labels that point at work on the codebook or the
guidelines (the codebook page lists them)."""

from django.db.models import Q

from annotate.access import project_rows
from annotate.models import (
    FinalLabel,
)


def flagged_decisions(project):
    """Final labels a lead flagged for codebook work, or whose error kind points at the
    codebook or the guidelines, newest first."""
    return (
        project_rows(FinalLabel, project)
        .filter(
            Q(codebook_needs_work=True)
            | Q(
                error_kind__in=[
                    FinalLabel.ErrorKind.CODEBOOK_GAP,
                    FinalLabel.ErrorKind.GUIDELINE_GAP,
                ]
            )
        )
        .select_related("item__issue__repository", "decided_by")
        .order_by("-decided_at")
    )
