"""Error replies that never echo a request value unescaped (issue #12).

A page answers its error inside the normal layout (base.html), an htmx request in the part
of the page it swaps; a download (chart, table, export) answers text/plain, which no
browser renders as markup."""

from django.http import HttpResponse
from django.shortcuts import render


def error_page(request, message: str, *, hint: str = "", status: int = 400, **context):
    """The error page: ``message`` (autoescaped) and what to do about it, in base.html."""
    context.update(message=message, hint=hint, back=request.path)
    return render(request, "error.html", context, status=status)


def error_fragment(request, message: str, *, target: str, hint: str = "", status: int = 400,
                   **context):  # fmt: skip
    """An htmx request's error: the message (autoescaped) as the element ``target`` (an id)
    that the request swaps, so the page around it, its filters included, stays in place.
    (Pages that swap results on error let htmx swap a 400: see static/js/analysis.js.)"""
    context.update(message=message, hint=hint, back=request.path, target=target)
    return render(request, "error.html#fragment", context, status=status)


def error_text(message: str, *, status: int = 400) -> HttpResponse:
    """A plain-text error for a download URL."""
    return HttpResponse(f"{message}\n", content_type="text/plain; charset=utf-8", status=status)


def with_project_images(response, project):
    """Let the page load the external images its project allows (Markdown renders them as
    <img> only then): the Content-Security-Policy's img-src gains https:."""
    if project is not None and project.allow_external_images:
        response._csp_update = {"img-src": ["https:"]}
    return response
