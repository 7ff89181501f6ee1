"""Labeling queue under load: annotator clients doing next + submit over HTTP against
gunicorn, on a project of 100,000 items to label in a PostgreSQL database of its own
(bench_queue, created and dropped here), beside a trivial token-authenticated endpoint
under the same load (the ceiling): GET /api/projects/ (the token, the caller's projects).

The project is late in labeling and has a calibration batch pinned (issue #16): before the
bench starts it already holds PREFILL annotations (settled items labeled by two annotators
each, with assignments, labels and final labels, so every annotator has a long history the
queue must step over) and CALIBRATION of the items to label are pinned as a batch that
every client labels first.

Two loads, both printed:
- saturated: CLIENTS closed-loop clients with no think time. The server is always busy,
  so this measures throughput; by Little's law every endpoint's mean latency, the
  ceiling's too, is at least CLIENTS / throughput, so medians here say more about the
  queue in front of the server than about the endpoint.
- paced: the same clients at an annotator's pace (a random THINK seconds between items,
  and between ceiling requests; real annotators take far longer): the latency an
  annotator meets, which is where "median under 25 ms" means something.
Each load alternates labeling and the ceiling in ROUNDS slices, so that both meet the same
drift in the machine's other load.
In the saturated loop next and submit alternate, so each runs at the loop's rate: two
endpoints exactly as cheap as the ceiling would show 0.5x each. The bench therefore also
prints next and submit requests together against the ceiling (1.0 = as cheap per request),
and the CPU each request costs gunicorn's workers and PostgreSQL's backends, read from
/proc (the machine's other load does not change those much).

gunicorn runs with production settings (DEBUG off, persistent database connections), as
tests/reliability/support.py starts it. Label bodies are those of the reliability tests:
some pairs disagree and go to the conflict queue, some are out of scope.

Environment (defaults are issue #4's sizes):
  BENCH_QUEUE_ITEMS=100000        items in the project
  BENCH_QUEUE_CLIENTS=20          concurrent annotator clients
  BENCH_QUEUE_SECONDS=60          saturated next + submit
  BENCH_QUEUE_CEILING_SECONDS=20  saturated ceiling
  BENCH_QUEUE_PACED_SECONDS=30    paced next + submit, and as long a paced ceiling
  BENCH_QUEUE_THINK=0.5-2         think time between items, seconds (uniform)
  BENCH_QUEUE_WORKERS=4           gunicorn workers (as the Dockerfile and docker-compose.yml
                                  run it: more than the cores, so that one worker's wait for
                                  a commit's WAL flush is another's CPU time)
  BENCH_QUEUE_ROUNDS=4            slices each load alternates labeling and ceiling in
  BENCH_QUEUE_PREFILL=1000000     annotations already in (settled items, two annotators each)
  BENCH_QUEUE_CALIBRATION=40      items pinned as a calibration batch
Goals (issue #16): next and submit cost at most 2x the ceiling's server CPU per request
(measured per request of the alternating loop: /proc cannot tell two endpoints of one
loop apart), and their median at an annotator's pace is under 25 ms.
"""

import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate_database, use_database, verdict  # noqa: E402 - beside this script

ITEMS = int(os.environ.get("BENCH_QUEUE_ITEMS", "100000"))
CLIENTS = int(os.environ.get("BENCH_QUEUE_CLIENTS", "20"))
SECONDS = float(os.environ.get("BENCH_QUEUE_SECONDS", "60"))
CEILING_SECONDS = float(os.environ.get("BENCH_QUEUE_CEILING_SECONDS", "20"))
PACED_SECONDS = float(os.environ.get("BENCH_QUEUE_PACED_SECONDS", "30"))
THINK = tuple(float(x) for x in os.environ.get("BENCH_QUEUE_THINK", "0.5-2").split("-"))
WORKERS = int(os.environ.get("BENCH_QUEUE_WORKERS", "4"))
ROUNDS = int(os.environ.get("BENCH_QUEUE_ROUNDS", "4"))
PREFILL = int(os.environ.get("BENCH_QUEUE_PREFILL", "1000000"))
CALIBRATION = int(os.environ.get("BENCH_QUEUE_CALIBRATION", "40"))
DB_NAME = "bench_queue"

BENCH_URL, ADMIN_URL = use_database(DB_NAME)

import django  # noqa: E402

django.setup()

from _late_study import prefill  # noqa: E402 - beside this script
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from annotate.labeling.queue import pin_calibration  # noqa: E402
from annotate.models import Item  # noqa: E402
from tests.reliability.data import build_project, integrity_problems, label_bodies  # noqa: E402
from tests.reliability.support import (  # noqa: E402
    body_for,
    percentile,
    start_gunicorn,
    stop,
)

TICKS = os.sysconf("SC_CLK_TCK")


# ----- CPU of the server's processes ------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def gunicorn_pids(master: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == master:
                children.append(int(entry.name))
    return [master, *children]


def backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU used by gunicorn (master and workers), the bench database's backends and this
    client process between start() and stop()."""

    def __init__(self, master: int):
        self.master = master

    def start(self):
        self.app = {pid: cpu_seconds(pid) for pid in gunicorn_pids(self.master)}
        self.db = {pid: cpu_seconds(pid) for pid in backend_pids()}
        self.client = time.process_time()

    def stop(self) -> dict:
        def used(before: dict, pids: list[int]) -> float:
            return sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids)

        return {
            "app": used(self.app, gunicorn_pids(self.master)),
            "db": used(self.db, backend_pids()),
            "client": time.process_time() - self.client,
        }


# ----- clients ------------------------------------------------------------------------------
class Results:
    def __init__(self):
        self.latencies = {"next": [], "submit": [], "ceiling": []}
        self.errors: list[tuple] = []
        self.labeled: dict[str, int] = {}  # token -> an item it labeled
        self.lock = threading.Lock()

    def note(self, endpoint, seconds, response, ok=200):
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if response.status_code != ok:
                self.errors.append((endpoint, response.status_code, response.text[:200]))


def think(paced: bool, rng: random.Random) -> None:
    if paced:
        time.sleep(rng.uniform(*THINK))


def label_loop(base, slug, token, bodies, results, paced, deadline):
    """next, (think,) submit, until the deadline; stops at the first failed next."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    rng = random.Random(token)
    think(paced, rng)  # paced clients arrive spread out, not all in the same millisecond
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = session.post(f"{base}/api/projects/{slug}/queue/next/", timeout=60)
        results.note("next", time.perf_counter() - started, response)
        if response.status_code != 200:
            return
        item_id = response.json()["id"]
        think(paced, rng)
        started = time.perf_counter()
        response = session.post(
            f"{base}/api/projects/{slug}/items/{item_id}/annotations/",
            json=body_for(token, item_id, bodies),
            timeout=60,
        )
        results.note("submit", time.perf_counter() - started, response)
        if response.status_code == 200:
            with results.lock:
                results.labeled[token] = item_id


def ceiling_loop(base, slug, token, results, paced, deadline):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    rng = random.Random(token)
    url = f"{base}/api/projects/"
    think(paced, rng)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = session.get(url, timeout=60)
        results.note("ceiling", time.perf_counter() - started, response)
        think(paced, rng)


def run_phase(target, argument_lists, seconds, meter=None) -> tuple[float, dict | None]:
    """One client thread per argument list, each until `seconds` have passed; returns the
    phase's length (until the last client finished) and the CPU the meter saw."""
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=target, args=(*a, deadline)) for a in argument_lists]
    if meter:
        meter.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, meter.stop() if meter else None


def alternate(base, slug, tokens, bodies, results, paced, meter=None) -> tuple[dict, dict]:
    """The labeling loop and the ceiling in ROUNDS alternating slices (saturated: SECONDS
    and CEILING_SECONDS in all; paced: PACED_SECONDS each), so that both meet the same
    drift in the machine's other load. Returns the seconds and the CPU of each kind."""
    label_seconds, ceiling_seconds = (PACED_SECONDS,) * 2 if paced else (SECONDS, CEILING_SECONDS)
    seconds = {"label": 0.0, "ceiling": 0.0}
    cpu = {"label": Counter(), "ceiling": Counter()}
    for _ in range(ROUNDS):
        label = [(base, slug, t, bodies, results, paced) for t in tokens]
        elapsed, used = run_phase(label_loop, label, label_seconds / ROUNDS, meter)
        seconds["label"] += elapsed
        cpu["label"].update(used or {})
        ceiling = [(base, slug, t, results, paced) for t in tokens]
        elapsed, used = run_phase(ceiling_loop, ceiling, ceiling_seconds / ROUNDS, meter)
        seconds["ceiling"] += elapsed
        cpu["ceiling"].update(used or {})
    return seconds, cpu


# ----- report -------------------------------------------------------------------------------
def rows(results: Results, names: list[str], seconds: float) -> list[dict]:
    """Figures per endpoint. `floor` is Little's law for the phase: with every client
    always waiting on one request, the mean latency of its requests is clients divided by
    all the requests per second (next and submit together in the labeling loop)."""
    all_rps = sum(len(results.latencies[name]) for name in names) / seconds
    figures = []
    for name in names:
        samples = results.latencies[name]
        figures.append(
            {
                "name": name,
                "count": len(samples),
                "rps": len(samples) / seconds,
                "median": statistics.median(samples) * 1000 if samples else 0.0,
                "p95": percentile(samples, 0.95) * 1000,
                "p99": percentile(samples, 0.99) * 1000,
                "floor": CLIENTS / all_rps * 1000 if all_rps else 0.0,
            }
        )
    return figures


def table(title: str, rows: list[dict], saturated: bool) -> None:
    print(title)
    head = f"  {'endpoint':10} {'requests':>8} {'req/s':>7} {'median':>8} {'p95':>8} {'p99':>8}"
    head += f" {'Little':>8}" if saturated else ""
    print(head + "   (ms)")
    for r in rows:
        line = (
            f"  {r['name']:10} {r['count']:8d} {r['rps']:7.1f} {r['median']:8.1f} "
            f"{r['p95']:8.1f} {r['p99']:8.1f}"
        )
        print(line + (f" {r['floor']:8.1f}" if saturated else ""))


def report(saturated: list[dict], paced: list[dict], pair_cpu: dict, ceiling_cpu: dict):
    next_, submit, ceiling = saturated
    table(
        f"saturated: {CLIENTS} closed-loop clients, no think time "
        "(Little = clients / requests per second: the mean latency they force)",
        saturated,
        True,
    )
    table(
        f"paced: {CLIENTS} clients thinking {THINK[0]:g}-{THINK[1]:g} s between items "
        "(between requests for the ceiling)",
        paced,
        False,
    )
    print("server CPU, ms (gunicorn workers + PostgreSQL backends, saturated; this client apart)")
    print("  (baseline: the ceiling, GET /api/projects/ with a token: the cheapest real request)")
    for name, cpu in (("next+submit pair", pair_cpu), ("ceiling request", ceiling_cpu)):
        print(
            f"  {name:16} app {cpu['app']:6.2f}  db {cpu['db']:6.2f}  "
            f"total {cpu['app'] + cpu['db']:6.2f}  (client {cpu['client']:5.2f})"
        )
    ceiling_rps = ceiling["rps"]
    for r in (next_, submit):
        ratio = r["rps"] / ceiling_rps if ceiling_rps else 0.0
        print(
            f"     {r['name']} throughput: {ratio:.2f} x ceiling's requests/s "
            "[alternating with the other: each runs at the loop's rate]"
        )
    together = (next_["rps"] + submit["rps"]) / ceiling_rps if ceiling_rps else 0.0
    cost = ceiling_cpu["app"] + ceiling_cpu["db"]
    per_request = (pair_cpu["app"] + pair_cpu["db"]) / 2 if cost else 0.0
    cpu_ratio = per_request / cost if cost else 0.0
    print(
        f"goal server CPU per next/submit request: {cpu_ratio:.2f} x the ceiling's "
        f"(goal <= 2.00) {verdict(0 < cpu_ratio <= 2.0)}; next and submit requests together "
        f"ran at {together:.2f} x the ceiling's requests/s"
    )
    for r in paced[:2]:
        print(
            f"goal {r['name']} median at annotator pace: {r['median']:.1f} ms (goal < 25; "
            f"ceiling {paced[2]['median']:.1f}) {verdict(r['median'] < 25)}"
        )
    for r in saturated[:2]:
        print(
            f"     {r['name']} median saturated: {r['median']:.1f} ms (goal < 25; ceiling "
            f"{ceiling['median']:.1f}, Little's floor {r['floor']:.1f}) {verdict(r['median'] < 25)}"
        )


def main():
    setup_started = time.monotonic()
    call_command("migrate", verbosity=0)
    project, tokens, _ = build_project(slug="bench-queue", items=ITEMS, annotators=CLIENTS)
    annotators = list(
        project.memberships.filter(role="annotator").order_by("pk").values_list("user", flat=True)
    )
    prefilled = prefill(project, annotators, PREFILL) if PREFILL else 0
    calibration = list(
        Item.objects.filter(project=project, state="open")
        .order_by("position")
        .values_list("pk", flat=True)[:CALIBRATION]
    )
    pin_calibration(project=project, item_ids=calibration, batch="calibration")
    bodies = label_bodies(project)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"bench_queue: {ITEMS} items to label, {prefilled:,} annotations already in, "
        f"{len(calibration)} calibration items pinned; {CLIENTS} clients, "
        f"gunicorn -w {WORKERS}, saturated "
        f"{SECONDS:.0f} s + ceiling {CEILING_SECONDS:.0f} s, paced {PACED_SECONDS:.0f} s each "
        f"(setup {time.monotonic() - setup_started:.0f} s)"
    )
    log = Path(tempfile.mkdtemp(prefix="bench_queue_")) / "gunicorn.log"
    server, base = start_gunicorn(
        database_url=BENCH_URL,
        log=log,
        workers=WORKERS,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="0",  # plain HTTP here; production has a TLS proxy in front
        DB_CONN_MAX_AGE="600",
    )
    # The start-up probe renders the login page, which with DEBUG off and no collectstatic
    # fails on a missing static file: only what the log gains from here on counts.
    log_start = log.stat().st_size
    meter = CpuMeter(server.pid)
    slug = project.slug
    try:
        # Warm-up, not measured: every worker connects and fills its caches.
        warm = Results()
        run_phase(label_loop, [(base, slug, t, bodies, warm, False) for t in tokens], 3)
        busy = Results()
        seconds, pair_cpu = alternate(base, slug, tokens, bodies, busy, False, meter)
        calm = Results()
        paced_seconds, _ = alternate(base, slug, tokens, bodies, calm, True)
    finally:
        stop(server)
    saturated = rows(busy, ["next", "submit"], seconds["label"])
    saturated += rows(busy, ["ceiling"], seconds["ceiling"])
    paced = rows(calm, ["next", "submit"], paced_seconds["label"])
    paced += rows(calm, ["ceiling"], paced_seconds["ceiling"])
    pairs = len(busy.latencies["submit"]) or 1
    ceilings = len(busy.latencies["ceiling"]) or 1
    per_pair = {k: v * 1000 / pairs for k, v in pair_cpu["label"].items()}
    per_ceiling = {k: v * 1000 / ceilings for k, v in pair_cpu["ceiling"].items()}
    report(saturated, paced, per_pair, per_ceiling)
    errors = busy.errors + calm.errors
    print(f"errors: {len(errors)} {sorted({e[:2] for e in errors})[:5]} (goal 0)")
    over = Item.objects.filter(
        project=project, assigned_count__gt=project.overlap, calibration=False
    ).count()
    annotated = Item.objects.filter(project=project, submitted_count__gt=0).count()
    print(
        f"items with annotations: {annotated}; items over overlap: {over} (goal 0; the "
        "calibration items, which everyone labels, apart)"
    )
    problems = integrity_problems(project)
    print(f"nothing half-written: {problems or 'none'} {verdict(not problems)}")
    with log.open() as text:
        text.seek(log_start)
        tracebacks = text.read().count("Traceback")
    shutil.rmtree(log.parent, ignore_errors=True)
    print(f"tracebacks in gunicorn's log: {tracebacks} (goal 0) {verdict(tracebacks == 0)}")


if __name__ == "__main__":
    try:
        main()
    finally:
        connections.close_all()
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
