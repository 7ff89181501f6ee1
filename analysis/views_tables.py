"""Share tables of the distributions panels (issue #13): every share with its Wilson 95%
interval, as CSV or LaTeX. The panel and its access rules are the distributions page's."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.text import slugify

from annotate.access import get_project_for_user
from annotate.responses import error_text

from . import dashboard, exports
from .specs import SpecError

TYPES = {"csv": "text/csv; charset=utf-8", "tex": "application/x-tex; charset=utf-8"}


@login_required
def distribution_shares(request, slug, view, fmt):
    if view not in dashboard.VIEWS:
        raise Http404("No such table.")
    project, membership = get_project_for_user(request.user, slug)
    try:
        filters = dashboard.parse_filters(request.GET, project)
        access = dashboard.access_source(
            project=project, membership=membership, source=filters.source
        )
        panel, _ = dashboard.cached_panel(
            project=project, filters=filters, access=access, view=view
        )
    except SpecError as error:
        return error_text(str(error))
    if panel.table is None:
        raise Http404("No such table.")
    header, rows = dashboard.share_table(panel)
    name = slugify(f"{project.slug}-{view}-shares")
    if fmt == "csv":
        content = exports.to_csv(header, rows)
    else:
        caption = f"{panel.title}: shares with Wilson 95% intervals"
        content = exports.to_latex(header, rows, caption=caption, label=f"tab:{name}")
    response = HttpResponse(content, content_type=TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
