"""Schemathesis over the whole API, long run: every operation of /api/schema/, positive and
negative cases, as each role (owner, lead, annotator, outsider; token auth), in-process
through the WSGI app on a PostgreSQL database of its own (bench_fuzz, dropped afterwards).

Environment:
  BENCH_FUZZ_REQUESTS=1000   generated requests per role, at least
  BENCH_FUZZ_EXAMPLES=7      examples per operation and generation mode in one round
  BENCH_FUZZ_SEED=<random>   hypothesis seed of the first round (printed; rounds add 1)
  BENCH_FUZZ_CRAFTED=200     requests per crafted class (issue #12: forged cursors, huge
                             offsets and integers, long CSV cells), then duplicate creates
Goal: no 5xx, no reply off the schema; the CI version is tests/fuzz/test_api_fuzz.py.
Also: the Markdown renderer's worst case on hostile text at its length cap (goal < 1 s).
"""

import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _database import recreate_database, use_database  # noqa: E402 - beside this script

REQUESTS = int(os.environ.get("BENCH_FUZZ_REQUESTS", "1000"))
EXAMPLES = int(os.environ.get("BENCH_FUZZ_EXAMPLES", "7"))
CRAFTED = int(os.environ.get("BENCH_FUZZ_CRAFTED", "200"))
SEED = int(os.environ.get("BENCH_FUZZ_SEED") or random.randrange(1 << 30))
DB_NAME = os.environ.get("BENCH_FUZZ_DB", "bench_fuzz")  # name it apart when several run at once
# Owner last: its members, categories and projects mutations would change the others' view.
ROLE_ORDER = ("outsider", "annotator", "lead", "owner")

_, ADMIN_URL = use_database(DB_NAME)
MEDIA = tempfile.TemporaryDirectory(prefix="bench-fuzz-media-")
os.environ["MEDIA_ROOT"] = MEDIA.name

import django  # noqa: E402

django.setup()

from django.core import signals  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from annotate.models import Role  # noqa: E402
from annotate.projects import services  # noqa: E402
from tests.fuzz import harness  # noqa: E402
from tests.fuzz.world import build_world, make_cast  # noqa: E402

CRASHES: Counter = Counter()


def remember_crash(sender, request=None, **kwargs):
    error = sys.exc_info()[1]
    CRASHES[f"{request.method} {request.path}: {type(error).__name__}: {error}"[:300]] += 1


def build():
    call_command("migrate", verbosity=0)
    cast = make_cast()
    project = services.create_project(name="Fuzz", slug="fuzz", owner=cast["owner"])
    services.add_member(project=project, username="lead", role=Role.LEAD)
    for name in ("annotator_a", "annotator_b"):
        services.add_member(project=project, username=name, role=Role.ANNOTATOR)
    return build_world(project=project, cast=cast)


def fuzz_role(schema, world, role) -> harness.Tally:
    tally, round_ = harness.Tally(), 0
    while tally.requests < REQUESTS:
        tally.add(
            harness.fuzz_api(
                schema,
                token=world["tokens"][role],
                paths=world["paths"],
                examples=EXAMPLES,
                seed=SEED + round_,
            )
        )
        round_ += 1
    return tally


def markdown_worst_case():
    from annotate.markdown import MAX_SOURCE_CHARS, render_markdown

    units = {
        "brackets": "[",
        "nested tags": "<div>",
        "emphasis": "*a",
        "links": "[a](b)",
        "quotes": ">",
        "scripts": "<script>alert(1)</script>",
    }
    times = {}
    for name, unit in units.items():
        text = unit * (MAX_SOURCE_CHARS * 3 // len(unit))
        started = time.perf_counter()
        render_markdown(text)
        times[name] = time.perf_counter() - started
    worst = max(times, key=times.get)
    shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())
    print(
        f"markdown: {len(text):,}-char hostile inputs cut at {MAX_SOURCE_CHARS:,}: {shown}; "
        f"worst {worst} {times[worst]:.2f} s (goal < 1 s)"
    )


def main():
    markdown_worst_case()
    signals.got_request_exception.connect(remember_crash)
    world = build()
    total = harness.Tally()
    with harness.keep_connection():
        schema = harness.load_schema()
        # Server errors are counted below with their exception; Django's per-request log
        # is noise (set after the WSGI app's setup, which configures logging again).
        logging.getLogger("django.request").setLevel(logging.CRITICAL)
        count = len(harness.operations(schema))
        print(f"operations: {count}; at least {REQUESTS} requests per role; seed {SEED}")
        for role in ROLE_ORDER:
            started = time.perf_counter()
            tally = fuzz_role(schema, world, role)
            seconds = time.perf_counter() - started
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items()))
            server_errors = sum(v for k, v in tally.statuses.items() if k >= 500)
            print(
                f"{role:>9}: {tally.requests} requests in {seconds:.0f} s; statuses {statuses}; "
                f"5xx {server_errors} (goal 0); failures {len(tally.failures)} (goal 0)"
            )
            total.add(tally)
        started = time.perf_counter()
        crafted = harness.crafted_probes(
            tokens=world["tokens"], paths=world["paths"], count=CRAFTED, seed=SEED
        )
        crafted.add(
            harness.concurrent_duplicate_creates(tokens=world["tokens"], paths=world["paths"])
        )
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(crafted.statuses.items()))
        print(
            f"  crafted: {crafted.requests} requests in {time.perf_counter() - started:.0f} s "
            "(forged cursors, huge offsets/limits/page sizes, JSON integers past 4,300 digits, "
            f"long CSV cells, duplicate creates at once); statuses {statuses}; "
            f"5xx {sum(v for k, v in crafted.statuses.items() if k >= 500)} (goal 0)"
        )
        total.add(crafted)
    server_errors = sum(v for k, v in total.statuses.items() if k >= 500)
    print(
        f"    total: {total.requests} requests; 5xx {server_errors} (goal 0); "
        f"failures {len(total.failures)} (goal 0)"
    )
    for failure in sorted(set(total.failures))[:40]:
        print("  failure:", failure)
    for crash, times in CRASHES.most_common(20):
        print(f"  crash x{times}: {crash}")
    return 1 if server_errors else 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        connections.close_all()
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
        MEDIA.cleanup()
    sys.exit(code)
