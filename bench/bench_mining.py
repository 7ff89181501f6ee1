"""Mining benchmark: a generated repository of 10,000 issues and pull requests and 40,000
comments in the GitHub API emulator, crawled into PostgreSQL through the real services.
The emulator serves GitHub-sized objects (every field the REST API documents: a full
`user`, `reactions`, full labels, every URL), so the miner parses and stores as much as it
would from GitHub (issue #16); the bench prints their average size as stored.

Prints the requests spent against ceil(N/100) + ceil(C/100) (goal: equal, +2 at most),
the GraphQL queries of a crawl with fix links (`--fixes`) against ceil(I/100) for its I
issues (goal: +2 at most; beside it the REST way, one timeline request per issue, counted
not run) and of its unchanged re-sync (goal: 0),
the quota spent by an unchanged re-sync (goal: 0) and the ingest rate (goal: >= 1,000
issues and pull requests per second). Sizes: BENCH_MINING_ISSUES, BENCH_MINING_COMMENTS
(environment). Works in a database of its own, bench_mining, created and dropped here.

The emulator runs in a process of its own (`python -m mining.emulator`), as GitHub is a
remote server: in this process it would compete with the miner for the interpreter lock,
and the figure would measure the emulator as much as the miner.
"""

import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
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

from annotate.projects.services import create_project  # noqa: E402
from mining import jobs  # noqa: E402
from mining.emulator import COUNTERS_PATH  # noqa: E402
from mining.models import Comment, FixLink, Issue, source_of  # noqa: E402

ISSUES = int(os.environ.get("BENCH_MINING_ISSUES", "10000"))
COMMENTS = int(os.environ.get("BENCH_MINING_COMMENTS", "40000"))


def start_emulator() -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "mining.emulator", "--port", "0", "--quota", "100000"]
    command += ["--issues", str(ISSUES), "--comments", str(COMMENTS)]
    command += ["--repository", "deepseek-ai/DeepSeek-V3", "--token", os.environ["GITHUB_TOKEN"]]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # "GitHub API emulator on http://127.0.0.1:PORT serving..."
    if " on http" not in line:
        process.kill()
        sys.exit(f"the emulator did not start: {line!r}")
    return process, line.split(" on ", 1)[1].split()[0]


def counters(url: str) -> tuple[int, int]:
    """The emulator's server-side counts: (requests, quota spent)."""
    data = all_counters(url)
    return data["requests"], data["quota_spent"]


def all_counters(url: str) -> dict:
    with urllib.request.urlopen(url + COUNTERS_PATH, timeout=10) as reply:
        return json.load(reply)


def crawl(project, repo, url, fixes=False):
    job = jobs.start_mining_job(
        project=project, repositories=[repo], api_url=url, dispatch=False, fixes=fixes
    )
    return jobs.run_job_sync(job=job)


def fix_links(project, repo, url) -> dict:
    """A crawl with fix links after the plain ones (its lists answer 304), then again."""
    before = all_counters(url)["graphql_queries"]
    started = time.perf_counter()
    job = crawl(project, repo, url, fixes=True)
    elapsed = time.perf_counter() - started
    middle = all_counters(url)["graphql_queries"]
    crawl(project, repo, url, fixes=True)
    after = all_counters(url)["graphql_queries"]
    issues = Issue.objects.filter(repository=repo, is_pull_request=False).count()
    links = FixLink.objects.filter(issue__repository=repo).count()
    counts = {"queries": middle - before, "resync": after - middle, "issues": issues}
    return counts | {"links": links, "seconds": elapsed, "points": job.graphql_points}


def main() -> None:
    call_command("migrate", verbosity=0)
    emulator, url = start_emulator()
    try:
        project = create_project(name="Bench", slug="bench", preset=False)
        # Mined data is keyed by the API it came from (issue #12): the emulator is its own source.
        repo = jobs.add_repository(
            project=project, full_name="deepseek-ai/DeepSeek-V3", source=source_of(url)
        )
        started, cpu = time.perf_counter(), time.process_time()
        job = crawl(project, repo, url)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        full_requests, _ = counters(url)
        stored = Issue.objects.filter(repository=repo).count()
        comments = Comment.objects.filter(issue__repository=repo).count()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT avg(length(raw::text)) FROM mining_issue),"
                " (SELECT avg(length(raw::text)) FROM mining_comment)"
            )
            issue_bytes, comment_bytes = cursor.fetchone()
        requests_before, quota_before = counters(url)
        crawl(project, repo, url)
        requests_after, quota_after = counters(url)
        resync_quota, resync_requests = quota_after - quota_before, requests_after - requests_before
        fixes = fix_links(project, repo, url)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
        connection.close()
    formula = math.ceil(ISSUES / 100) + math.ceil(COMMENTS / 100)
    print(f"sizes: {ISSUES} issues and pull requests, {COMMENTS} comments ({job.status})")
    print(f"stored: {stored} issues and pull requests, {comments} comments")
    # GitHub's objects, field for field (mining/emulator/objects.py): a full `user`,
    # `reactions`, full label objects, every URL; the miner stores the whole object.
    print(
        f"object sizes as stored: issue {issue_bytes:,.0f} bytes of JSON on average (bodies "
        f"included), comment {comment_bytes:,.0f}"
    )
    print(
        f"full crawl requests: {full_requests} vs formula {formula} "
        f"(+{full_requests - formula}; goal: +0..2)"
    )
    print(
        f"unchanged re-sync: {resync_quota} quota spent ({resync_requests} requests, 304s) "
        "(goal: 0)"
    )
    goal = math.ceil(fixes["issues"] / 100)
    print(
        f"fix links: {fixes['queries']} GraphQL queries for "
        f"{fixes['issues']} issues vs goal ceil(I/100) = {goal} (+{fixes['queries'] - goal}; "
        f"goal: +0..2), {fixes['points']} points, {fixes['links']} links stored in "
        f"{fixes['seconds']:.1f} s; baseline, the REST way (an issue's timeline, one request "
        f"per issue, counted, not run): {fixes['issues']} requests; unchanged re-sync: "
        f"{fixes['resync']} queries (goal: 0)"
    )
    # GitHub delivers 100 issues per request: 5,000 requests an hour is about 139 issues a
    # second; the goal is seven times that, the whole crawl (comments too) in the time.
    print(
        f"ingest: {elapsed:.1f} s end to end ({cpu:.1f} s CPU in the miner), "
        f"{ISSUES / elapsed:,.0f} issues and pull requests/s (goal: >= 1,000/s); "
        f"{(ISSUES + COMMENTS) / elapsed:,.0f} issues and comments/s"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        _admin(f"DROP DATABASE IF EXISTS {NAME} WITH (FORCE)")
