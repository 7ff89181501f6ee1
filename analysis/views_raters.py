"""The human-machine agreement page and its API: machine raters beside the humans (issue
#18), for the agreement report's readers (leads and owners). Counts and rates only: no
page here shows a machine's label on an item."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from annotate.access import get_project_for_agreement

from .rater_agreement import build_rater_report


@login_required
def rater_agreement(request, slug):
    project, membership = get_project_for_agreement(request.user, slug)
    report = build_rater_report(project)
    for rater in report["raters"]:
        if rater["run"] is None:
            continue
        rater["versus"], rater["table"] = _pivot(rater["rows"])
    context = {"project": project, "membership": membership, "report": report}
    return render(request, "analysis/rater_agreement.html", context)


def _pivot(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """The rows as a table: one line per dimension and level, one cell per comparison
    (final labels, human majority, then each annotator)."""
    versus = sorted(
        {(r["versus"], r["versus_label"]) for r in rows},
        key=lambda pair: (pair[0] != "final", pair[0] != "majority", pair[0]),
    )
    lines: dict[tuple, dict] = {}
    for row in rows:
        line = lines.setdefault(
            (row["dimension"], row["level"]),
            {"dimension": row["dimension"], "level": row["level"], "cells": {}},
        )
        line["cells"][row["versus"]] = row
    table = [
        {**line, "cells": [line["cells"].get(v) for v, _ in versus]} for line in lines.values()
    ]
    return [label for _, label in versus], table


@extend_schema(
    responses={
        200: OpenApiResponse(
            description="Each rater's agreement, stability, bias and "
            "delegation curve (docs/raters.md)."
        ),
        403: OpenApiResponse(description="Annotators may not read agreement."),
        404: OpenApiResponse(description="No such project (or not a member)."),
    },
    description="Machine raters beside the humans: each rater's latest finished run "
    "against each annotator, the human majority and the final labels, per dimension and "
    "level; run-to-run Fleiss' kappa; bias per category; the delegation curve.",
)
@api_view(["GET"])
def rater_agreement_api(request, slug):
    project, _ = get_project_for_agreement(request.user, slug)
    return Response(build_rater_report(project))
