"""The XSS sweep's parameter table is complete: every GET route of the URL configuration
has an entry, and every query parameter the code reads is in it (issue #12)."""

import re
from pathlib import Path

from .query_params import COMMON, QUERY_PARAMS, params_for
from .routes import all_routes
from .test_permission_matrix import MATRIX

ROOT = Path(__file__).resolve().parents[2]
# request.GET.get("x"), params.get("x"), request.query_params["x"], getlist("x") ...
READS = re.compile(
    r"""(?:GET|params|query_params)(?:\.get|\.getlist|\.__getitem__)?[\(\[]\s*["']([A-Za-z_]\w*)["']"""
)


def get_routes():
    return [
        route
        for route in all_routes()
        if not route.text.startswith("admin/") and (route.key, "GET") in MATRIX
    ]


def test_every_get_route_has_an_entry_and_no_entry_is_stale():
    keys = {route.key for route in get_routes()}
    assert keys - set(QUERY_PARAMS) == set(), "GET routes missing from QUERY_PARAMS"
    assert set(QUERY_PARAMS) - keys == set(), "QUERY_PARAMS names routes that do not exist"


def test_every_parameter_the_code_reads_is_in_the_table():
    listed = set(COMMON)
    for route in get_routes():
        listed.update(params_for(route))
    read = set()
    for folder in ("annotate", "mining", "analysis", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                read.update(READS.findall(path.read_text()))
    assert read, "the scan found nothing: its pattern is wrong"
    assert read - listed == set()


def test_filter_sets_are_expanded_from_the_views():
    routes = {route.key: route for route in get_routes()}
    assert "state" in params_for(routes["api-items"])
    assert "FILTERSET" not in params_for(routes["api-items"])
