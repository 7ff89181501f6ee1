"""A lost database connection (restart, failover) answers a clear 503 page, not a 500."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
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

    The API (DRF) answers its own 503 in annotate.api.exception_handler; errors raised by
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
