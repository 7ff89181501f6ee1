"""Error pages: a lost database connection (restart, failover) answers a clear 503 page, not
a 500; a missing or forbidden page answers inside the app's layout (issue #15)."""

import logging
import sys
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views import defaults

logger = logging.getLogger(__name__)

LOST = (OperationalError, InterfaceError)


def database_unavailable(request) -> HttpResponse:
    """The 503 page, with Retry-After. templates/503.html needs no database: it is rendered
    without the request (no user, session or context processors) and loads nothing.

    Django closes the broken connection when the request ends (it errored and is no longer
    usable), so the next request on this process connects afresh."""
    logger.warning("Database unavailable on %s", request.path)
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "1"
    return response


class DatabaseUnavailableMiddleware:
    """Turns OperationalError/InterfaceError raised by a page view into the 503 page.

    The API (DRF) answers its own 503 in annotate.api.base.exception_handler; errors raised by
    other middleware reach server_error below (handler500, when DEBUG is off)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, LOST):
            return database_unavailable(request)
        return None


def server_error(request):
    """handler500: the 503 page when the uncaught error was a lost database connection."""
    if isinstance(sys.exc_info()[1], LOST):
        return database_unavailable(request)
    return defaults.server_error(request)


class NullCharacterMiddleware:
    """A page's form post with U+0000 in a field answers the 400 error page before any view
    runs: PostgreSQL text cannot hold it, so a note, reason or rationale carrying one
    would otherwise reach the database and answer 500. (The API's serializers refuse it
    field by field themselves.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "POST"
            and not request.path.startswith("/api/")
            and any("\x00" in value for _, values in request.POST.lists() for value in values)
        ):
            from annotate.responses import error_page

            return error_page(
                request,
                "A field of the form contains a null character (U+0000), which cannot be stored.",
                hint="Remove it (it often comes from pasting binary text) and send the form again.",
                status=400,
            )
        return self.get_response(request)


def _said(exception, default: str) -> str:
    """What the code that raised the error said (``Http404("No such project.")``), or the
    default when it said nothing readable (the URL resolver passes a dict of patterns)."""
    args = getattr(exception, "args", ())
    return args[0] if args and isinstance(args[0], str) and args[0] else default


def page_not_found(request, exception=None):
    """handler404: the 404 page in the layout, saying what was missing and where to go."""
    message = _said(exception, "There is no page at this address.")
    return render(request, "404.html", {"message": message}, status=404)


def permission_denied(request, exception=None):
    """handler403: the 403 page in the layout, saying which rule refused and whom to ask."""
    message = _said(exception, "Your account may not open this page.")
    return render(request, "403.html", {"message": message}, status=403)


class NotFoundPageMiddleware:
    """An Http404 raised by a page view answers our 404 page, DEBUG or not.

    With DEBUG on (``make run``) Django answers such an error with its technical 404 page
    instead of handler404, so a newcomer who mistypes a project's name meets a developer's
    page outside the app. Addresses that match no route still get the technical page under
    DEBUG (it lists the routes, which is what a developer wants there); the API answers its
    own JSON 404s in DRF."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Http404) and not request.path.startswith("/api/"):
            return page_not_found(request, exception)
        return None


class HtmxHistoryMiddleware:
    """Pages that answer htmx with a fragment of themselves are told apart from the full
    page by the HX-Request header, so:

    - every page response varies on it (``Vary: HX-Request``): otherwise the browser's
      cache hands the fragment fetched for a filter back as the whole page when the user
      comes back to that address (Back after opening an item showed a bare table);
    - a history restore (htmx could not find its saved copy of the page, and asks the
      server for it) is answered as a full page: the header is dropped for the views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # META, not request.headers: that is read once and kept, with HX-Request in it.
        if request.META.get("HTTP_HX_HISTORY_RESTORE_REQUEST") == "true":
            request.META.pop("HTTP_HX_REQUEST", None)
        response = self.get_response(request)
        if not request.path.startswith("/api/"):
            patch_vary_headers(response, ("HX-Request",))
        return response


class HtmxLoginRedirectMiddleware:
    """An htmx request refused for want of a session (signed out in another tab, the session
    ended) is sent to the login page as a page visit (HX-Redirect), back to the page the
    user was on. A plain redirect would be followed by htmx in the background, and the
    whole login page swapped into the part that asked (the labeling workspace)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.META.get("HTTP_HX_REQUEST") != "true" or response.status_code not in (
            301,
            302,
            303,
            307,
            308,
        ):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        if not back.startswith("/") or back.startswith("//"):
            back = request.get_full_path()
        redirect = HttpResponse(status=200)
        redirect["HX-Redirect"] = f"{login}?{urlencode({'next': back})}"
        return redirect
