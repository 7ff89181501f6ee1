"""Mining benchmark: a generated repository of 10,000 issues and pull requests and 40,000
comments in the GitHub API emulator, crawled into PostgreSQL through the real services.

Prints the requests spent against ceil(N/100) + ceil(C/100) (goal: equal, +2 at most),
the quota spent by an unchanged re-sync (goal: 0) and the ingest rate (goal: >= 1,000
issues per second). Sizes: BENCH_MINING_ISSUES, BENCH_MINING_COMMENTS (environment).
Works in a database of its own, bench_mining, created and dropped here.
"""

import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import dj_database_url  # noqa: E402
import psycopg  # noqa: E402

BASE = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/faultline")
if not BASE.startswith("postgres"):
    sys.exit("bench_mining needs a PostgreSQL DATABASE_URL")
NAME = "bench_mining"
ADMIN = dj_database_url.parse(BASE)


def _admin(sql: str) -> None:
    with psycopg.connect(
        host=ADMIN["HOST"],
        port=ADMIN["PORT"] or 5432,
        user=ADMIN["USER"],
        password=ADMIN["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


_admin(f"DROP DATABASE IF EXISTS {NAME}")
_admin(f"CREATE DATABASE {NAME}")
os.environ["DATABASE_URL"] = BASE.rsplit("/", 1)[0] + "/" + NAME
os.environ["GITHUB_TOKEN"] = "ghp_bench_token_not_secret"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from annotate.services import create_project  # noqa: E402
from mining import services  # noqa: E402
from mining.emulator import GitHubEmulator  # noqa: E402
from mining.models import Comment, Issue  # noqa: E402

ISSUES = int(os.environ.get("BENCH_MINING_ISSUES", "10000"))
COMMENTS = int(os.environ.get("BENCH_MINING_COMMENTS", "40000"))


def main() -> None:
    call_command("migrate", verbosity=0)
    emulator = GitHubEmulator(token=os.environ["GITHUB_TOKEN"], quota=100_000)
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=ISSUES, comments=COMMENTS)
    emulator.start()
    try:
        project = create_project(name="Bench", slug="bench", preset=False)
        repo = services.add_repository(project=project, full_name="deepseek-ai/DeepSeek-V3")
        started = time.perf_counter()
        job = services.start_mining_job(
            project=project, repositories=[repo], api_url=emulator.url, dispatch=False
        )
        job = services.run_job_sync(job=job)
        elapsed = time.perf_counter() - started
        full_requests = emulator.requests
        stored = Issue.objects.filter(repository=repo).count()
        comments = Comment.objects.filter(issue__repository=repo).count()
        emulator.reset_counters()
        services.run_job_sync(
            job=services.start_mining_job(
                project=project, repositories=[repo], api_url=emulator.url, dispatch=False
            )
        )
        resync_quota, resync_requests = emulator.quota_spent, emulator.requests
    finally:
        emulator.stop()
        connection.close()
    formula = math.ceil(ISSUES / 100) + math.ceil(COMMENTS / 100)
    print(f"sizes: {ISSUES} issues and pull requests, {COMMENTS} comments ({job.status})")
    print(f"stored: {stored} issues and pull requests, {comments} comments")
    print(
        f"full crawl requests: {full_requests} vs formula {formula} "
        f"(+{full_requests - formula}; goal: +0..2)"
    )
    print(
        f"unchanged re-sync: {resync_quota} quota spent ({resync_requests} requests, 304s) "
        "(goal: 0)"
    )
    # GitHub delivers 100 issues or comments per request: 5,000 requests an hour is about
    # 139 a second; the goal is seven times that, issues and comments alike.
    print(
        f"ingest: {elapsed:.1f} s end to end, {(ISSUES + COMMENTS) / elapsed:,.0f} issues and "
        f"comments/s ({ISSUES / elapsed:,.0f}/s counting issues and PRs only) (goal: >= 1,000/s)"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        _admin(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
