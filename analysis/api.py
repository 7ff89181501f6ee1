"""GET /api/projects/{slug}/agreement/ and /distribution/: the dashboards' numbers."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from annotate.access import get_project_for_agreement, get_project_for_user

from .cache import agreement_report
from .codebook import load_codebook
from .dashboard import access_source
from .distributions import build_crosstab, shared_issues, table_dimensions
from .metrics import wilson_interval
from .phases import default_phase, phase_versions
from .serializers import (
    AgreementQuerySerializer,
    AgreementSerializer,
    DistributionQuerySerializer,
    DistributionSerializer,
)
from .specs import SpecError, parse_source, parse_spec


@extend_schema(
    parameters=[AgreementQuerySerializer],
    responses={
        200: AgreementSerializer,
        403: OpenApiResponse(description="Annotators may not read agreement."),
        404: OpenApiResponse(description="No such project (or not a member)."),
    },
    description="Agreement per dimension and level, scope and number of records, over the "
    "annotators' own labels.",
)
@api_view(["GET"])
def agreement(request, slug):
    project, _ = get_project_for_agreement(request.user, slug)
    query = AgreementQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    options = dict(query.validated_data)
    phase = options.pop("phase", "") or default_phase(project)
    report = agreement_report(project=project, versions=phase_versions(project, phase), **options)
    payload = {
        "record_pairing": report.record_pairing,
        "unpaired": report.unpaired,
        "unpaired_convention": report.unpaired_convention,
        "rows": report.rows(),
    }
    return Response(AgreementSerializer(payload).data)


@extend_schema(
    parameters=[DistributionQuerySerializer],
    responses={
        200: DistributionSerializer,
        400: OpenApiResponse(description="A bad SPEC or source; the message names it."),
        403: OpenApiResponse(description="Another annotator's labels."),
        404: OpenApiResponse(description="No such project (or not a member)."),
    },
    description="Failure records cross-tabulated by two SPECs, with the chi-square test.",
)
@api_view(["GET"])
def distribution(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    query = DistributionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    try:
        rows = parse_spec(data["rows"], name="rows")
        cols = parse_spec(data["cols"], name="cols") if data.get("cols") else None
        source = parse_source(data.get("source"))
        access = access_source(project=project, membership=membership, source=source)
        table = build_crosstab(
            project=project, rows=rows, cols=cols, source=source, user=access.user,
            settled_only=access.settled_only, group=data.get("group") or None,
        )  # fmt: skip
    except SpecError as error:
        raise ValidationError({"detail": str(error)}) from error
    except PermissionDenied as error:
        raise ApiPermissionDenied(str(error)) from error
    total = table.total
    intervals = [[wilson_interval(n, total) for n in row] for row in table.counts]
    payload = {
        "rows": table.rows,
        "cols": table.cols,
        "counts": table.counts,
        "percentages": table.percentages(),
        "percent_ci_low": [[None if lo is None else 100 * lo for lo, _ in r] for r in intervals],
        "percent_ci_high": [[None if hi is None else 100 * hi for _, hi in r] for r in intervals],
        "total": total,
    }
    if "chi2" in table.extras:
        payload["chi2"] = table.extras["chi2"]
        payload["shared_issues"] = shared_issues(
            project=project, source=source, user=access.user,
            settled_only=access.settled_only, group=data.get("group") or None,
            dimensions=table_dimensions(load_codebook(project), rows, cols),
        )  # fmt: skip
    return Response(DistributionSerializer(payload).data)
