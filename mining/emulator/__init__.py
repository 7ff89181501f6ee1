"""A GitHub REST API emulator: a real HTTP server (stdlib, one thread per request) that
speaks the subset the miner uses, over generated repositories of any size.

Endpoints: GET /repos/{o}/{r}, /repos/{o}/{r}/issues (state, since, sort=updated,
direction=asc, per_page), /repos/{o}/{r}/issues/comments (since), /repos/{o}/{r}/issues/{n},
/repos/{o}/{r}/issues/{n}/comments, /rate_limit; POST /graphql answers the miner's fix-link
queries (graphql.py) from a points quota of its own. Lists paginate with opaque cursors in
`Link: <...>; rel="next"` (`page=N` beyond 1 answers 422, as GitHub does for deep pages).
Every reply carries a weak ETag; `If-None-Match` with it answers 304 without spending quota.
Rate-limit headers and a quota; server-side request counters; mutation helpers (edit,
comment, delete -> 410, transfer -> 301, link_fix); injectable faults (see `inject`), on
/graphql too.

Django-free. world.py holds the repositories and what changes them (mutations, faults);
server.py serves them over HTTP (routing, pages, ETags, the rate limit). Run standalone
for the demo:
    python -m mining.emulator --port 8765 --issues 500 --comments 2000
"""

from .server import COUNTERS_PATH, GitHubEmulator
from .world import FAULT_KINDS, Fault, Repo

__all__ = ["COUNTERS_PATH", "FAULT_KINDS", "Fault", "GitHubEmulator", "Repo"]
