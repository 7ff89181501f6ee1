"""Labeling queue under load: N concurrent annotator clients doing next + submit over HTTP
against gunicorn, on a project of 100,000 items in a PostgreSQL database of its own.

The ceiling is a trivial authenticated endpoint of the same app under the same load:
GET /api/projects/{slug}/items/{id}/annotations/mine/ (token auth, membership and item
lookups through annotate.access, the caller's own annotation).

Environment (defaults are the issue's sizes):
  BENCH_QUEUE_ITEMS=100000    items in the project
  BENCH_QUEUE_CLIENTS=20      concurrent annotator clients
  BENCH_QUEUE_SECONDS=60      duration of the next + submit phase
  BENCH_QUEUE_CEILING_SECONDS=20  duration of the ceiling phase
  BENCH_QUEUE_WORKERS=4       gunicorn workers
Goal: next and submit each at least half the ceiling's throughput, median under 25 ms.
"""

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import database_urls, recreate_database  # noqa: E402 - beside this script

ITEMS = int(os.environ.get("BENCH_QUEUE_ITEMS", "100000"))
CLIENTS = int(os.environ.get("BENCH_QUEUE_CLIENTS", "20"))
SECONDS = float(os.environ.get("BENCH_QUEUE_SECONDS", "60"))
CEILING_SECONDS = float(os.environ.get("BENCH_QUEUE_CEILING_SECONDS", "20"))
WORKERS = int(os.environ.get("BENCH_QUEUE_WORKERS", "4"))
DB_NAME = "bench_queue"

BENCH_URL, ADMIN_URL = database_urls(DB_NAME)


recreate_database(DB_NAME, ADMIN_URL)
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from annotate import services  # noqa: E402
from annotate.models import Category, Item, Role  # noqa: E402
from mining.models import Issue, Repository  # noqa: E402


def build_project():
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    owner = User.objects.create_user("bench-owner", password="bench-password-1")
    project = services.create_project(name="Bench queue", slug="bench-queue", owner=owner)
    repo = Repository.objects.create(owner="bench", name="models", group="Bench")
    for start in range(0, ITEMS, 10_000):
        stop = min(start + 10_000, ITEMS)
        issues = Issue.objects.bulk_create(
            Issue(
                repository=repo,
                number=n + 1,
                title=f"CUDA out of memory while loading, case {n}",
                body="Loading the model fails.\n\n```\nRuntimeError: CUDA out of memory\n```",
                state="closed",
                fetched=True,
            )
            for n in range(start, stop)
        )
        Item.objects.bulk_create(
            Item(project=project, issue=issue, position=start + i) for i, issue in enumerate(issues)
        )
    tokens = []
    for n in range(CLIENTS):
        username = f"bench-annotator-{n}"
        services.add_member(project=project, username=username, role=Role.ANNOTATOR)
        tokens.append(Token.objects.create(user=User.objects.get(username=username)).key)
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")
    root = Category.objects.filter(
        dimension__project=project, dimension__key="root_cause", children__isnull=True
    ).first()
    body = {
        "records": [
            {
                "labels": [
                    {"dimension": "symptom", "category": "Crash > CUDA Error > Out of Memory"},
                    {"dimension": "root_cause", "category": root.pk},
                    {"dimension": "stage", "category": "Inference"},
                ]
            }
        ],
        "confidence": 4,
    }
    return project, tokens, body


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port):
    # Persistent connections, as in production: a new PostgreSQL backend per request would
    # dominate every endpoint's cost, the ceiling's most of all.
    env = dict(
        os.environ, DATABASE_URL=BENCH_URL, DEBUG="1", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="60"
    )
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [
            gunicorn,
            "config.wsgi",
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
            return process
        except requests.RequestException:
            time.sleep(0.5)
    process.terminate()
    process.wait(timeout=30)
    sys.exit("gunicorn did not start")


def label_loop(base, slug, token, body, deadline, results, errors, labeled):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = session.post(f"{base}/api/projects/{slug}/queue/next/", timeout=30)
        results["next"].append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(("next", response.status_code))
            return
        item_id = response.json()["id"]
        started = time.perf_counter()
        response = session.post(
            f"{base}/api/projects/{slug}/items/{item_id}/annotations/", json=body, timeout=30
        )
        results["submit"].append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(("submit", response.status_code))
        else:
            labeled.append((token, item_id))


def ceiling_loop(base, slug, token, item_id, deadline, results, errors):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    url = f"{base}/api/projects/{slug}/items/{item_id}/annotations/mine/"
    while time.monotonic() < deadline:
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        results["ceiling"].append(time.perf_counter() - started)
        if response.status_code != 200:
            errors.append(("ceiling", response.status_code))


def run_threads(target, args_per_client):
    threads = [threading.Thread(target=target, args=args) for args in args_per_client]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def summary(name, samples, seconds):
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
    median = statistics.median(ordered) if ordered else 0.0
    return {
        "name": name,
        "count": len(ordered),
        "rps": len(ordered) / seconds,
        "median_ms": median * 1000,
        "p99_ms": p99 * 1000,
    }


def main():
    setup_started = time.monotonic()
    project, tokens, body = build_project()
    connections.close_all()
    print(
        f"bench_queue: {ITEMS} items, {CLIENTS} clients, gunicorn -w {WORKERS}, "
        f"{SECONDS:.0f} s next+submit, {CEILING_SECONDS:.0f} s ceiling "
        f"(setup {time.monotonic() - setup_started:.0f} s)"
    )
    port = free_port()
    server = start_gunicorn(port)
    base = f"http://127.0.0.1:{port}"
    try:
        # Warm-up, not measured: every worker imports the app and fills its caches.
        warm = {"next": [], "submit": [], "ceiling": []}
        run_threads(
            label_loop,
            [(base, project.slug, t, body, time.monotonic() + 3, warm, [], []) for t in tokens],
        )
        results, errors, labeled = {"next": [], "submit": [], "ceiling": []}, [], []
        started = time.monotonic()
        deadline = started + SECONDS
        run_threads(
            label_loop,
            [(base, project.slug, t, body, deadline, results, errors, labeled) for t in tokens],
        )
        label_seconds = time.monotonic() - started
        held = {token: item for token, item in labeled}
        started = time.monotonic()
        deadline = started + CEILING_SECONDS
        run_threads(
            ceiling_loop,
            [
                (base, project.slug, t, held[t], deadline, results, errors)
                for t in tokens
                if t in held
            ],
        )
        ceiling_seconds = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = [
        summary("next", results["next"], label_seconds),
        summary("submit", results["submit"], label_seconds),
        summary("ceiling (GET annotations/mine/)", results["ceiling"], ceiling_seconds),
    ]
    print(f"{'endpoint':34} {'requests':>9} {'req/s':>8} {'median ms':>10} {'p99 ms':>8}")
    for row in rows:
        print(
            f"{row['name']:34} {row['count']:9d} {row['rps']:8.1f} "
            f"{row['median_ms']:10.1f} {row['p99_ms']:8.1f}"
        )
    both = rows[0]["rps"] + rows[1]["rps"]
    print(f"next + submit together: {both:.1f} req/s")
    ceiling = rows[2]["rps"]
    for row in rows[:2]:
        ratio = row["rps"] / ceiling if ceiling else 0.0
        print(
            f"goal {row['name']}: {ratio:.2f} x ceiling (goal >= 0.50) "
            f"{'ok' if ratio >= 0.5 else 'MISSED'}; median {row['median_ms']:.1f} ms "
            f"(goal < 25) {'ok' if row['median_ms'] < 25 else 'MISSED'}"
        )
    print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")
    annotated = Item.objects.filter(project=project, submitted_count__gt=0).count()
    over = Item.objects.filter(project=project, assigned_count__gt=project.overlap).count()
    print(f"items with annotations: {annotated}; items over overlap: {over} (goal 0)")


if __name__ == "__main__":
    try:
        main()
    finally:
        connections.close_all()
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
