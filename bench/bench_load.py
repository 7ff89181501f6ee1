"""Labeling under load: N concurrent annotator clients over HTTP against gunicorn with
several workers on PostgreSQL, each doing next + submit until the queue is empty, on a
project of its own database (bench_load, created and dropped here). Afterwards every item
must have exactly `overlap` annotations, none lost or duplicated, no 5xx, no deadlock in
gunicorn's log, nothing half-written.

Environment (defaults are issue #8's sizes):
  BENCH_LOAD_ITEMS=2000     items (overlap 2)
  BENCH_LOAD_CLIENTS=50     concurrent annotator clients
  BENCH_LOAD_WORKERS=4      gunicorn workers
"""

import os
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate_database, use_database, verdict  # noqa: E402 - beside this script

ITEMS = int(os.environ.get("BENCH_LOAD_ITEMS", "2000"))
CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "50"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
DB_NAME = "bench_load"

BENCH_URL, ADMIN_URL = use_database(DB_NAME)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from tests.reliability.data import (  # noqa: E402
    annotation_counts,
    build_project,
    integrity_problems,
    label_bodies,
)
from tests.reliability.support import (  # noqa: E402
    Tally,
    annotate_until_empty,
    deadlocks_in,
    latency_line,
    run_clients,
    start_gunicorn,
    stop,
)


def _cpu(usage) -> float:
    return usage.ru_utime + usage.ru_stime


def main():
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    project, tokens, _ = build_project(slug="bench-load", items=ITEMS, annotators=CLIENTS)
    bodies = label_bodies(project)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    connections.close_all()
    print(
        f"bench_load: {ITEMS} items, overlap {project.overlap}, {CLIENTS} clients, "
        f"gunicorn -w {WORKERS} (setup {time.monotonic() - started:.0f} s)"
    )
    log = Path(tempfile.mkdtemp(prefix="bench_load_")) / "gunicorn.log"
    server, base = start_gunicorn(
        database_url=BENCH_URL, log=log, workers=WORKERS, DB_CONN_MAX_AGE="60"
    )
    tally = Tally()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.RUSAGE_CHILDREN
    served = resource.getrusage(children)
    try:
        seconds = run_clients(
            CLIENTS,
            annotate_until_empty,
            tokens=tokens,
            base=base,
            slug=project.slug,
            bodies=bodies,
            tally=tally,
        )
    finally:
        stop(server)
    # Where the time goes: the clients' CPU (this process) against gunicorn's workers'.
    client_cpu = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(own)
    server_cpu = _cpu(resource.getrusage(children)) - _cpu(served)
    text = log.read_text()
    statuses = Counter({f"{e} {s}": n for (e, s), n in sorted(tally.statuses.items(), key=str)})
    server_errors = tally.count(lambda s: not isinstance(s, int) or s >= 500)
    counts = annotation_counts(project)
    problems = integrity_problems(project)
    duplicates = len(tally.labeled) - len(set(tally.labeled))
    deadlocks = deadlocks_in(text)
    expected = ITEMS * project.overlap
    print(f"requests: {tally.requests} in {seconds:.1f} s = {tally.requests / seconds:.1f} req/s")
    print(f"submissions: {len(tally.labeled)} = {len(tally.labeled) / seconds:.1f} per s")
    print("statuses: " + ", ".join(f"{k}: {n}" for k, n in statuses.items()))
    print(f"CPU while labeling: gunicorn {server_cpu:.0f} s, the clients {client_cpu:.0f} s")
    print(latency_line("next", tally.latencies["next"]))
    print(latency_line("submit", tally.latencies["submit"]))
    print("items by annotation count: " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))
    print(
        f"goal every item has exactly {project.overlap}: "
        f"{counts.get(project.overlap, 0)}/{ITEMS} {verdict(counts == {project.overlap: ITEMS})}"
    )
    print(
        f"goal none lost (200 submissions = {expected}): {len(tally.labeled)} "
        f"{verdict(len(tally.labeled) == expected)}"
    )
    print(f"goal none duplicated: {duplicates} {verdict(duplicates == 0)}")
    print(f"goal no 5xx or connection errors: {server_errors} {verdict(server_errors == 0)}")
    print(f"goal no deadlock in gunicorn's log: {len(deadlocks)} {verdict(not deadlocks)}")
    print(f"goal nothing half-written: {problems or 'none'} {verdict(not problems)}")
    print(f"every client ran the queue dry: {tally.statuses[('next', 204)]}/{CLIENTS}")
    tracebacks = text.count("Traceback")
    print(f"tracebacks in gunicorn's log: {tracebacks} (goal 0) {verdict(tracebacks == 0)}")


if __name__ == "__main__":
    try:
        main()
    finally:
        connections.close_all()
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
