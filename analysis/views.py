"""The agreement and distributions dashboards, their charts and their table downloads."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify

from annotate.access import (
    AGREEMENT_READERS,
    ALL_ROLES,
    get_project_for_agreement,
    get_project_for_user,
    repository_groups,
)
from annotate.responses import error_fragment, error_page, error_text

from . import charts, dashboard, exports
from .cache import agreement_report, cached
from .phases import parse_phase, phase_rows, phase_versions
from .reports import (
    agreement_tables,
    confusion_cells,
    display_row,
    kappa_figure,
    method_notes,
    no_pairs_notice,
    parse_agreement_filters,
    percent_text,
    selected_level,
)
from .specs import SpecError
from .views_names import COLUMN_NAMES, breakdown_cell, spec_choices, spec_label

BREAKDOWN_TABLES = ("pairs", "batches", "weeks", "versions")
TABLE_TYPES = {"csv": "text/csv; charset=utf-8", "tex": "application/x-tex; charset=utf-8"}


def _download(content, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CORRELATION_CAVEAT = (
    "Caveat: each row is a composition (its shares sum to 100%), so r is descriptive only, "
    "not a test: the closure alone pushes correlations negative (Pearson 1897; Aitchison "
    "1986). Whether the rows' distributions differ is what the chi-square test of "
    "homogeneity answers."
)


def _table_response(caption, header, rows, fmt: str, filename: str) -> HttpResponse:
    if fmt == "csv":
        return _download(exports.to_csv(header, rows), TABLE_TYPES["csv"], f"{filename}.csv")
    text = exports.to_latex(header, rows, caption=caption, label=f"tab:{filename}")
    return _download(text, TABLE_TYPES["tex"], f"{filename}.tex")


def _agreement(request, slug, *, breakdowns: bool = True):
    project, membership = get_project_for_agreement(request.user, slug)
    filters = parse_agreement_filters(request.GET)
    filters.phase = parse_phase(filters.phase, project)
    report = agreement_report(
        project=project,
        exclude_calibration=filters.exclude_calibration,
        exclude_discussed=filters.exclude_discussed,
        unpaired=filters.unpaired,
        breakdowns=breakdowns,
        versions=phase_versions(project, filters.phase),
    )
    return project, membership, filters, report


def _bad_page(request, slug, error, roles=ALL_ROLES, *, target="report", **context):
    """A bad query parameter: the page's 400 inside the project's layout, or for htmx in
    place of the result area ``target`` (membership was checked before the parameters were
    read, so the lookup cannot fail here)."""
    project, membership = get_project_for_user(request.user, slug, roles=roles)
    context.update(project=project, membership=membership)
    if request.htmx:
        return error_fragment(request, str(error), target=target, **context)
    return error_page(request, str(error), **context)


def _distribution_choices(request, slug, error: Exception) -> dict:
    """What to do after a bad filter, as links where the valid values are few: the views
    for a bad ``?view=``, the final labels and one's own for a bad or refused
    ``?source=``."""
    base = reverse("analysis-distributions", args=[slug])
    view = request.GET.get("view") or "rq1"
    if view not in dashboard.VIEWS:
        return {
            "hint": "Choose one of the views below.",
            "choices": [
                {"label": label, "url": f"{base}?{urlencode({'view': key})}"}
                for key, (label, _, _) in dashboard.VIEWS.items()
            ],
        }
    if not (isinstance(error, PermissionDenied) or str(error).startswith("'source=")):
        return {}
    sources = [("the final labels", "final"), ("your own labels", f"annotator:{request.user}")]
    return {
        "hint": "Labels are the final ones (final) or one member's (annotator: and their "
        "username), for example:",
        "choices": [
            {
                "label": f"{label} ({source})",
                "url": f"{base}?{urlencode({'view': view, 'source': source})}",
            }
            for label, source in sources
        ],
    }


@login_required
def agreement(request, slug):
    """The agreement page. The breakdowns (by pair, batch, week and codebook version) cost
    several times the rest on a large project, so the page comes without them and fetches
    them with htmx (``?part=breakdowns``: the breakdowns' partial for htmx, the whole page
    with them inline otherwise)."""
    with_breakdowns = request.GET.get("part") == "breakdowns"
    try:
        # One computation for the page and its breakdowns (issue #16): the report is built
        # with them, cached, and the breakdowns part that the page loads next reads it warm.
        project, membership, filters, report = _agreement(request, slug)
    except SpecError as error:
        target = "breakdowns" if with_breakdowns else "report"
        return _bad_page(request, slug, error, roles=AGREEMENT_READERS, target=target)
    dim, level = selected_level(report, filters)
    tables = agreement_tables(report, filters)
    context = {
        "project": project,
        "membership": membership,
        "filters": filters,
        "report": report,
        "dim": dim,
        "level": level,
        "with_breakdowns": with_breakdowns,
        "breakdowns": _breakdowns(tables, several_pairs=len(report.annotators) > 2)
        if with_breakdowns
        else [],
        "tables_base": reverse("analysis-agreement-table", args=[slug, "x", "csv"])[
            : -len("x.csv")
        ],
        "table_formats": ["csv", "tex"],
        "qs": urlencode(filters.query()),
        "phase_choices": [("main", "main (closed coding)"), ("pilot", "pilot"), ("all", "all")],
    }
    if with_breakdowns and request.htmx:
        return render(request, "analysis/agreement.html#breakdowns", context)
    rows = [display_row(row) for row in report.rows()]
    context.update(
        no_pairs=cached(
            project,
            ("no-pairs", tuple(sorted(filters.query().items()))),
            lambda: no_pairs_notice(project, report, filters),
        ),
        rows=rows,
        method_notes=method_notes(rows),
        categories=[
            {**c, "share_text": percent_text(c["disagreement_share"])}
            for c in (level.categories if level else [])
        ],
        confusion=confusion_cells(project.slug, dim, level) if dim else [],
        chart=cached(
            project,
            ("kappa-svg", tuple(sorted(filters.query().items()))),
            lambda: charts.inline_svg(kappa_figure(report), "kappa"),
        ),
        chart_base=reverse("analysis-agreement-chart", args=[slug, "svg"])[: -len(".svg")],
        chart_formats=list(charts.FORMATS),
        phases=_phases(project, filters, dim, level),
    )
    template = "analysis/agreement.html#report" if request.htmx else "analysis/agreement.html"
    return render(request, template, context)


def _phases(project, filters, dim, level) -> list[dict]:
    """The selected dimension and level's kappa per phase (issue #17), for the page."""
    if dim is None or level is None:
        return []

    def report_of(versions):
        return agreement_report(
            project=project, exclude_calibration=filters.exclude_calibration,
            exclude_discussed=filters.exclude_discussed, unpaired=filters.unpaired,
            breakdowns=False, versions=versions,
        )  # fmt: skip

    return [display_row(row) for row in phase_rows(project, report_of, dim.key, level.level)]


def _breakdowns(tables, *, several_pairs: bool) -> list[dict]:
    names = (["pairs"] if several_pairs else []) + ["batches", "weeks", "versions"]
    return [
        {
            "name": name,
            "caption": tables[name][0],
            "header": [COLUMN_NAMES.get(h, h) for h in tables[name][1]],
            "rows": [
                [breakdown_cell(h, v) for h, v in zip(tables[name][1], row, strict=True)]
                for row in tables[name][2]
            ],
        }
        for name in names
        if name in tables
    ]


@login_required
def agreement_table(request, slug, name, fmt):
    try:
        # The breakdown tables need the breakdowns; the summary and per-level ones do not.
        project, _, filters, report = _agreement(request, slug, breakdowns=name in BREAKDOWN_TABLES)
    except SpecError as error:
        return error_text(str(error))
    tables = agreement_tables(report, filters)
    if name not in tables:
        raise Http404("No such table.")
    caption, header, rows = tables[name]
    return _table_response(caption, header, rows, fmt, f"{project.slug}-agreement-{name}")


@login_required
def agreement_chart(request, slug, fmt):
    try:
        project, _, filters, report = _agreement(request, slug, breakdowns=False)
    except SpecError as error:
        return error_text(str(error))
    content = cached(
        project,
        ("kappa", fmt, tuple(sorted(filters.query().items()))),
        lambda: charts.render(kappa_figure(report), fmt),
    )
    return _download(content, charts.FORMATS[fmt], f"{project.slug}-kappa.{fmt}")


def _panel(request, slug, view=None):
    """The caller's panel, cached per data version, view, filters and the labels the caller
    reads through them (whose, and whether of settled items only); with the cache key's
    parts, for the panel's charts."""
    project, membership = get_project_for_user(request.user, slug)
    filters = dashboard.parse_filters(request.GET, project)
    access = dashboard.access_source(project=project, membership=membership, source=filters.source)
    panel, parts = dashboard.cached_panel(
        project=project, filters=filters, access=access, view=view
    )
    return project, membership, filters, panel, parts


def _chart(project, panel, parts, kind: str, fmt: str | None = None):
    """One chart of a panel, cached with it: inline SVG for the page (``fmt`` None) or a
    download's bytes."""
    if fmt is None:
        return cached(
            project,
            ("svg", kind, *parts),
            lambda: charts.inline_svg(dashboard.panel_figure(panel, kind), f"{panel.name}-{kind}"),
        )
    return cached(
        project,
        ("chart", fmt, kind, *parts),
        lambda: charts.render(dashboard.panel_figure(panel, kind), fmt),
    )


@login_required
def distributions(request, slug):
    """The distributions page. Its charts load after it (htmx, ``?part=chart&kind=...``
    answers one chart's figure), so the page itself needs only the cached panel."""
    try:
        project, membership, filters, panel, parts = _panel(request, slug)
    except SpecError as error:
        return _bad_page(
            request, slug, error, target="panel", **_distribution_choices(request, slug, error)
        )
    except PermissionDenied as error:
        # Another member's labels asked for by an annotator: for htmx, in the result area
        # (a 403 page swapped in would nest the layout; one not swapped says nothing).
        if not request.htmx:
            raise
        choices = _distribution_choices(request, slug, error)
        return _bad_page(request, slug, error, target="panel", status=403, **choices)
    chart_query = urlencode({**filters.query(), "view": panel.name, "part": "chart"})
    if request.GET.get("part") == "chart":
        kind = request.GET.get("kind", "")
        if kind not in panel.chart_kinds:
            raise Http404("No such chart.")
        return render(request, "analysis/distributions.html#figure", {
            "kind": kind, "svg": _chart(project, panel, parts, kind),
            "chart_formats": list(charts.FORMATS), "qs": urlencode(filters.query()),
            "chart_base": reverse("analysis-distribution-chart",
                                  args=[slug, panel.name, "x", "svg"])[:-5],
        })  # fmt: skip
    figures = [(kind, f"?{chart_query}&kind={kind}") for kind in panel.chart_kinds]
    context = {
        "project": project,
        "membership": membership,
        "filters": filters,
        "panel": panel,
        "figures": figures,
        "tables": dashboard.panel_tables(panel),
        "views": dashboard.VIEWS,
        "table_rows": _table_rows(panel),
        "correlation_rows": _correlation_rows(panel),
        "tables_base": reverse("analysis-distribution-table", args=[slug, "x", "csv"])[:-5],
        "chart_base": reverse("analysis-distribution-chart", args=[slug, panel.name, "x", "svg"])[
            :-5
        ],
        "table_formats": ["csv", "tex"],
        "chart_formats": list(charts.FORMATS),
        "groups": cached(project, ("groups",), lambda: repository_groups(project)),
        "qs": urlencode(filters.query()),
    }
    # The cross-tab's axes are chosen from lists and named as people name them.
    specs = spec_choices(project, filters.rows, filters.cols)
    table = panel.table
    context.update(
        spec_choices=specs,
        row_label=spec_label(table.row_spec, specs) if table else "",
        col_label=spec_label(table.col_spec, specs) if table and table.col_spec else "",
    )
    template = (
        "analysis/distributions.html#panel" if request.htmx else "analysis/distributions.html"
    )
    return render(request, template, context)


def _table_rows(panel) -> list[dict]:
    table = panel.table
    if table is None:
        return []
    total = table.total
    one_way = len(table.cols) == 1
    return [
        {
            "label": label,
            "counts": counts,
            "extra": f"{100 * counts[0] / total:.1f}" if one_way and total else sum(counts),
        }
        for label, counts in zip(table.rows, table.counts, strict=True)
    ]


def _correlation_rows(panel) -> list[dict]:
    corr = panel.correlation
    if corr is None:
        return []
    return [
        {"label": label, "values": [exports.cell_text(v, 3) for v in row]}
        for label, row in zip(corr.labels, corr.r, strict=True)
    ]


@login_required
def distribution_chart(request, slug, view, kind, fmt):
    if view not in dashboard.VIEWS or kind not in dashboard.VIEWS[view][2]:
        raise Http404("No such chart.")
    try:
        project, _, _, panel, parts = _panel(request, slug, view=view)
    except SpecError as error:
        return error_text(str(error))
    content = _chart(project, panel, parts, kind, fmt)
    return _download(content, charts.FORMATS[fmt], f"{project.slug}-{view}-{kind}.{fmt}")


@login_required
def distribution_table(request, slug, name, fmt):
    view = name.removesuffix("-correlation")
    if view not in dashboard.VIEWS:
        raise Http404("No such table.")
    try:
        project, _, _, panel, _ = _panel(request, slug, view=view)
    except SpecError as error:
        return error_text(str(error))
    tables = dashboard.panel_tables(panel)
    if name not in tables:
        raise Http404("No such table.")
    header, rows = tables[name]
    caption = f"{panel.title}: {panel.question}"
    if name.endswith("-correlation"):
        # The page's caveat travels with the table a paper would paste.
        caption += f" Pearson's r between row compositions. {CORRELATION_CAVEAT}"
    return _table_response(caption, header, rows, fmt, slugify(f"{project.slug}-{name}"))
