"""The open-coding pages of analysis (issue #17): the double-coding planner with its gauge,
and saturation with its chart (SVG, PNG, PDF) and table (CSV, LaTeX). For the readers of
agreement (leads and owners): both read every annotator's labels."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from annotate.access import AGREEMENT_READERS, get_project_for_agreement, get_project_for_user
from annotate.responses import error_page, error_text

from . import charts
from .cache import cached
from .planner import build_plan
from .saturation import build_saturation, parse_options, saturation_table
from .saturation_chart import saturation_figure
from .specs import SpecError
from .views import TABLE_TYPES, _download, _table_response


def _bad(request, slug, error):
    project, membership = get_project_for_user(request.user, slug, roles=AGREEMENT_READERS)
    return error_page(request, str(error), project=project, membership=membership)


@login_required
def planner(request, slug):
    project, membership = get_project_for_agreement(request.user, slug)
    try:
        result = build_plan(project=project, query=request.GET)
    except SpecError as error:
        return _bad(request, slug, error)
    context = {"project": project, "membership": membership, **result}
    context["prevalence_text"] = ", ".join(f"{p:.3f}" for p in result["inputs"].prevalences)
    context["alpha"] = 1 - result["inputs"].confidence
    labels = result["inputs"].labels
    context["rows"] = [
        {"label": labels[c.index] if c.index < len(labels) else f"#{c.index + 1}", "plan": c,
         **forms}
        for c, forms in zip(result["plan"].categories, result["binary"], strict=True)
    ]  # fmt: skip
    return render(request, "analysis/planner.html", context)


def _saturation(request, slug):
    project, membership = get_project_for_agreement(request.user, slug)
    options = parse_options(request.GET, project)
    key = ("saturation", tuple(sorted(options.items())))
    saturation = cached(project, key, lambda: build_saturation(project=project, **options))
    return project, membership, options, saturation


@login_required
def saturation(request, slug):
    try:
        project, membership, options, result = _saturation(request, slug)
    except SpecError as error:
        return _bad(request, slug, error)
    qs = urlencode({k: v for k, v in options.items() if v is not None})
    context = {
        "project": project,
        "membership": membership,
        "options": options,
        "saturation": result,
        "chart": charts.inline_svg(
            saturation_figure(result.dimensions, batch_size=result.batch_size), "saturation"
        ),
        "chart_base": reverse("analysis-saturation-chart", args=[slug, "svg"])[: -len(".svg")],
        "chart_formats": list(charts.FORMATS),
        "table_base": reverse("analysis-saturation-table", args=[slug, "csv"])[: -len(".csv")],
        "table_formats": list(TABLE_TYPES),
        "qs": qs,
        "table_rows": saturation_table(result)[1],
    }
    return render(request, "analysis/saturation.html", context)


@login_required
def saturation_chart(request, slug, fmt):
    try:
        project, _, options, result = _saturation(request, slug)
    except SpecError as error:
        return error_text(str(error))
    figure = saturation_figure(result.dimensions, batch_size=result.batch_size)
    return _download(charts.render(figure, fmt), charts.FORMATS[fmt],
                     f"{project.slug}-saturation.{fmt}")  # fmt: skip


@login_required
def saturation_table_download(request, slug, fmt):
    try:
        project, _, options, result = _saturation(request, slug)
    except SpecError as error:
        return error_text(str(error))
    header, rows = saturation_table(result)
    caption = (
        f"New categories per batch of {result.batch_size} items (saturation rule of Guest, "
        f"Namey and Chen 2020: base {options['base']}, run {options['run']}, threshold "
        f"{options['threshold']:.0%})"
    )
    return _table_response(caption, header, rows, fmt, f"{project.slug}-saturation")
