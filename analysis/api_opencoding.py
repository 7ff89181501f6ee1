"""GET /api/projects/{slug}/planner/ and /saturation/ (issue #17), for leads and owners."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from annotate.access import get_project_for_agreement

from .cache import cached
from .metrics.planning import PLANNER_REPLICATES
from .planner import build_plan
from .saturation import build_saturation, parse_options
from .serializers_opencoding import (
    PlannerQuerySerializer,
    PlannerSerializer,
    SaturationQuerySerializer,
    SaturationSerializer,
)
from .specs import SpecError

METHOD = (
    "n = (z * SE1 / half-width)^2, SE1 the asymptotic standard error of Cohen's kappa for one "
    "item (Fleiss, Cohen & Everitt 1969) under the expected table with common margins"
)
ERRORS = {
    400: OpenApiResponse(description="A bad parameter; the message names it."),
    403: OpenApiResponse(description="Annotators may not read agreement."),
    404: OpenApiResponse(description="No such project (or not a member)."),
}


@extend_schema(
    parameters=[PlannerQuerySerializer],
    responses={200: PlannerSerializer, **ERRORS},
    description="How many items to double-code for a target half-width of kappa's interval, "
    "per dimension and level, with each category's own need and the current gauge.",
)
@api_view(["GET"])
def planner(request, slug):
    project, _ = get_project_for_agreement(request.user, slug)
    try:
        result = build_plan(project=project, query=request.query_params,
                            replicates=PLANNER_REPLICATES)  # fmt: skip
    except SpecError as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error
    inputs, plan = result["inputs"], result["plan"]
    labels = inputs.labels
    payload = {
        "dimension": inputs.dimension, "level": inputs.level, "kappa": plan.kappa,
        "half_width": plan.half_width, "confidence": plan.confidence, "items": plan.items,
        "unit_se": plan.unit_se, "study_size": plan.study_size, "reachable": plan.reachable,
        "method": METHOD,
        "null_kappa": inputs.null_kappa, "power": inputs.power, "tails": inputs.tails,
        "categories": [
            {**asdict(c), **forms,
             "label": labels[c.index] if c.index < len(labels) else f"#{c.index + 1}"}
            for c, forms in zip(plan.categories, result["binary"], strict=True)
        ],
        "simulation": result["simulation"].as_dict() if result["simulation"] else None,
        "gauge": result["gauge"].as_dict(),
    }  # fmt: skip
    return Response(PlannerSerializer(payload).data)


@extend_schema(
    parameters=[SaturationQuerySerializer],
    responses={200: SaturationSerializer, **ERRORS},
    description="New categories per batch of items and dimension, with the stopping rule of "
    "Guest, Namey & Chen (2020): base size, run length, new-information threshold.",
)
@api_view(["GET"])
def saturation(request, slug):
    project, _ = get_project_for_agreement(request.user, slug)
    try:
        options = parse_options(request.query_params, project)
    except SpecError as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from error
    key = ("saturation", tuple(sorted(options.items())))
    result = cached(project, key, lambda: build_saturation(project=project, **options))
    return Response(SaturationSerializer(asdict(result)).data)
