"""GET /api/projects/{slug}/report/methods/: the reliability and procedure section of a paper
(issue #13), from the live data, as JSON (Markdown, LaTeX and the facts behind them) or, with
``?format=markdown`` or ``?format=latex`` (or the Accept header), as the bare text."""

import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.response import Response

from annotate.access import get_project_for_agreement

from .cache import methods_facts
from .methods_text import methods_latex, methods_markdown
from .serializers import MethodsSerializer


class _TextRenderer(renderers.BaseRenderer):
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Errors (403, 404) arrive as the API's JSON error body.
        return (data if isinstance(data, str) else json.dumps(data)).encode(self.charset)


class MarkdownRenderer(_TextRenderer):
    media_type = "text/markdown"
    format = "markdown"


class LatexRenderer(_TextRenderer):
    media_type = "application/x-tex"
    format = "latex"


@extend_schema(
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "markdown", "latex"],
            required=False,
            description="json (default): both texts and their facts; markdown or latex: "
            "that text alone.",
        )
    ],
    responses={
        (200, "application/json"): MethodsSerializer,
        (200, "text/markdown"): OpenApiTypes.STR,
        (200, "application/x-tex"): OpenApiTypes.STR,
        403: OpenApiResponse(description="Annotators may not read the methods section."),
        404: OpenApiResponse(description="No such project (or not a member), or format."),
    },
    description="The reliability and procedure section of a paper from the live data "
    "(GRRAS, Kottner et al. 2011): sample, coders, double-coding, codebook versions, every "
    "agreement figure with its CI, adjudication and scope counts.",
)
@api_view(["GET"])
@renderer_classes([renderers.JSONRenderer, MarkdownRenderer, LatexRenderer])
def methods(request, slug):
    project, _ = get_project_for_agreement(request.user, slug)
    facts = methods_facts(project)
    fmt = request.accepted_renderer.format
    if fmt == "markdown":
        return Response(methods_markdown(facts))
    if fmt == "latex":
        return Response(methods_latex(facts))
    return Response(
        MethodsSerializer(
            {"markdown": methods_markdown(facts), "latex": methods_latex(facts), "facts": facts}
        ).data
    )
