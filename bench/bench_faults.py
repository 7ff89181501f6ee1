"""Faults, long versions, on a database of their own (bench_faults, created and dropped
here) and a private redis-server (the shared Redis is never touched or restarted):

1. A Celery worker killed with SIGKILL at random moments of a crawl, K times, then left
   to finish: the data must equal the emulator's (counts, checksums of ids and updated
   times), with no duplicates.
2. Its Redis killed and restarted R times during a crawl (each while the crawl provably
   runs: printed with its time and page): the crawl must finish complete.
3. One job through every fault the emulator knows, several times each, plus a 301 and a
   410: complete data, and a job log that names each fault.
4. PostgreSQL backends terminated (pg_terminate_backend) every 0.4 s while annotators
   submit over gunicorn: every request succeeds or fails with a clear error, the app
   recovers, nothing is half-written.
5. PostgreSQL restarted for real (a private cluster from the machine's binaries, copied
   from this bench's database) P times while annotators submit and a page is read over
   gunicorn: the same goals, and pages answer the page or the 503 page.

Environment (defaults in brackets):
  BENCH_FAULTS_ISSUES [4000] and BENCH_FAULTS_COMMENTS [6000]: the crawled repository
  BENCH_FAULTS_KILLS [3]: SIGKILLs of the worker; BENCH_FAULTS_RESTARTS [2]: Redis restarts,
  each triggered on pages fetched, with every list page slowed by BENCH_FAULTS_PAGE_DELAY
  [0.2] s so that the crawl is still running
  BENCH_FAULTS_LINKS [200]: issues of the every-fault job
  BENCH_FAULTS_ITEMS [300] and BENCH_FAULTS_CLIENTS [20]: the database-fault labeling runs
  BENCH_FAULTS_SCENARIOS [12345]: which scenarios to run
  BENCH_FAULTS_PG_RESTARTS [3]: real PostgreSQL restarts, each down BENCH_FAULTS_PG_DOWN [2] s
"""

import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _database import recreate_database, use_database, verdict  # noqa: E402 - beside this script

ISSUES = int(os.environ.get("BENCH_FAULTS_ISSUES", "4000"))
COMMENTS = int(os.environ.get("BENCH_FAULTS_COMMENTS", "6000"))
KILLS = int(os.environ.get("BENCH_FAULTS_KILLS", "3"))
RESTARTS = int(os.environ.get("BENCH_FAULTS_RESTARTS", "2"))
LINKS = int(os.environ.get("BENCH_FAULTS_LINKS", "200"))
ITEMS = int(os.environ.get("BENCH_FAULTS_ITEMS", "300"))
CLIENTS = int(os.environ.get("BENCH_FAULTS_CLIENTS", "20"))
SCENARIOS = os.environ.get("BENCH_FAULTS_SCENARIOS", "12345")
PG_RESTARTS = int(os.environ.get("BENCH_FAULTS_PG_RESTARTS", "3"))
PG_DOWN = float(os.environ.get("BENCH_FAULTS_PG_DOWN", "2"))
REDIS_PAGE_DELAY = float(os.environ.get("BENCH_FAULTS_PAGE_DELAY", "0.2"))
DB_NAME = "bench_faults"

BENCH_URL, ADMIN_URL = use_database(DB_NAME)
WORK = Path(tempfile.mkdtemp(prefix="bench_faults_"))

sys.path.insert(0, str(ROOT))
from tests.reliability.support import free_port, start_redis  # noqa: E402

REDIS_PORT = free_port()
REDIS_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
os.environ["REDIS_URL"] = REDIS_URL  # the miner's budget in this process, too
REDIS = start_redis(REDIS_PORT, WORK / "redis.log")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402

from annotate.projects.services import create_project  # noqa: E402
from config.celery import app  # noqa: E402
from mining import jobs  # noqa: E402
from mining.emulator import GitHubEmulator  # noqa: E402
from mining.models import Comment, Issue, MiningJob  # noqa: E402
from mining.tasks import run_mining_task  # noqa: E402
from tests.reliability.data import (  # noqa: E402
    annotation_counts,
    build_project,
    emulator_figures,
    integrity_problems,
    label_bodies,
    lost_or_half_written,
    stored_figures,
)
from tests.reliability.restarts import connected_to, label_through_restarts  # noqa: E402
from tests.reliability.support import (  # noqa: E402
    PrivatePostgres,
    Tally,
    annotate_until_empty,
    run_clients,
    start_gunicorn,
    start_worker,
    stop,
    unclear_failures,
    unserved,
    wait_for,
)


def job_state(job):
    return MiningJob.objects.values_list("status", "pages").get(pk=job.pk)


def dispatch(job):
    with app.connection_for_write(REDIS_URL) as connection:
        for task_id in job.tasks.values_list("pk", flat=True):
            run_mining_task.apply_async(kwargs={"task_id": task_id}, connection=connection)


def compare(emulator, owner, name, repo, label):
    expected = emulator_figures(emulator.repo(owner, name))
    figures = stored_figures(repo)
    same = {k: figures[k] for k in expected} == expected
    clean = figures["duplicate_issue_ids"] == figures["duplicate_comment_ids"] == 0
    clean = clean and figures["duplicate_numbers"] == figures["placeholders"] == 0
    print(
        f"  stored {figures['issues']} issues, {figures['comments']} comments "
        f"(emulator {expected['issues']}, {expected['comments']}); "
        f"checksums {'equal' if same else 'DIFFER'}; duplicates "
        f"{figures['duplicate_issue_ids'] + figures['duplicate_comment_ids']}"
    )
    print(f"  goal {label}: data equals the emulator's, no duplicates {verdict(same and clean)}")


def scenario_kills(emulator, project):
    print(
        f"1. worker SIGKILLed {KILLS} times during a crawl of {ISSUES} issues, {COMMENTS} comments"
    )
    emulator.add_repository("deepseek-ai", "DeepSeek-V3", issues=ISSUES, comments=COMMENTS)
    repo = jobs.add_repository(project=project, full_name="deepseek-ai/DeepSeek-V3")
    log = WORK / "worker-kills.log"
    pages_total = -(-ISSUES // 100) - (-COMMENTS // 100)
    rng = random.Random(int(os.environ.get("BENCH_FAULTS_SEED", "0")) or None)
    step = max(pages_total // (KILLS + 2), 2)  # each life gets a random share of the pages

    def worker():
        return start_worker(
            database_url=BENCH_URL,
            redis_url=REDIS_URL,
            token=emulator.token,
            log=log,
            name="bench-kills",
        )

    started = time.monotonic()
    process = worker()
    try:
        job = jobs.start_mining_job(
            project=project, repositories=[repo], api_url=emulator.url, dispatch=False
        )
        dispatch(job)
        for _ in range(KILLS):
            target = job_state(job)[1] + rng.randint(1, step)
            if not wait_for(lambda t=target: job_state(job)[1] >= t, timeout=180):
                print("  the crawl stalled before a kill (see the worker log)")
                break
            time.sleep(rng.uniform(0, 0.3))
            pages = job_state(job)[1]
            process.send_signal(signal.SIGKILL)
            process.wait()
            print(f"  killed at page {pages}, job {job_state(job)[0]}")
            process = worker()
        done = wait_for(lambda: job_state(job)[0] == MiningJob.Status.DONE, timeout=240)
    finally:
        stop(process)
    task = job.tasks.get()
    print(
        f"  finished: {verdict(done)} in {time.monotonic() - started:.0f} s, "
        f"{task.attempts} attempts, {job_state(job)[1]} pages stored (list pages {pages_total})"
    )
    compare(emulator, "deepseek-ai", "DeepSeek-V3", repo, "after kills")


def scenario_redis(emulator, project):
    global REDIS
    issues, comments = ISSUES // 2, COMMENTS // 2
    print(f"2. Redis killed and restarted {RESTARTS} times during a crawl ({issues}, {comments})")
    emulator.add_repository("meta-llama", "llama3", issues=issues, comments=comments)
    repo = jobs.add_repository(project=project, full_name="meta-llama/llama3")
    pages_total = -(-issues // 100) - (-comments // 100)
    # Every list page answers after REDIS_PAGE_DELAY: the crawl lasts long enough that each
    # restart, triggered on pages fetched, lands while it is provably still running.
    slow = emulator.inject(
        "slow", path_contains="/repos/meta-llama/llama3/", times=10**9, seconds=REDIS_PAGE_DELAY
    )
    log = WORK / "worker-redis.log"
    process = start_worker(
        database_url=BENCH_URL,
        redis_url=REDIS_URL,
        token=emulator.token,
        log=log,
        name="bench-redis",
    )
    restarts = []
    try:
        job = jobs.start_mining_job(
            project=project, repositories=[repo], api_url=emulator.url, dispatch=False
        )
        dispatch(job)
        wait_for(lambda: job_state(job)[1] >= 1, timeout=120)
        started = time.monotonic()
        for n in range(RESTARTS):
            target = pages_total * (n + 1) // (RESTARTS + 2)
            wait_for(lambda t=target: job_state(job)[1] >= t, timeout=120)
            down = (time.monotonic() - started, *job_state(job))
            REDIS.send_signal(signal.SIGKILL)
            REDIS.wait()
            time.sleep(1.0)
            REDIS = start_redis(REDIS_PORT, WORK / "redis.log")
            restarts.append((down, (time.monotonic() - started, *job_state(job))))
        done = wait_for(lambda: job_state(job)[0] == MiningJob.Status.DONE, timeout=240)
        ended = time.monotonic() - started
        alive = process.poll() is None
    finally:
        stop(process)
        with emulator.lock:
            emulator.faults.remove(slow)
    finished = {MiningJob.Status.DONE, MiningJob.Status.FAILED, MiningJob.Status.CANCELLED}
    for n, ((t_down, status_down, page_down), (t_up, status_up, page_up)) in enumerate(restarts):
        print(
            f"  restart {n + 1}: Redis down {t_down:.1f} s after the crawl's first page "
            f"(page {page_down} of {pages_total}, job {status_down}), "
            f"back at {t_up:.1f} s (page {page_up}, job {status_up})"
        )
    mid_crawl = len(restarts) == RESTARTS and all(
        down[1] not in finished and up[1] not in finished and up[2] < pages_total
        for down, up in restarts
    )
    print(
        f"  crawl ended at {ended:.1f} s: {verdict(done)}; worker still running: {alive}; "
        f"goal every restart while the crawl runs {verdict(mid_crawl)}"
    )
    compare(emulator, "meta-llama", "llama3", repo, "after Redis restarts")


def scenario_every_fault(emulator, project):
    print(f"3. one job over {LINKS} issue links through every emulator fault, 3 times each")
    source = emulator.add_repository("QwenLM", "Qwen", issues=LINKS, comments=LINKS * 3)
    emulator.add_repository("QwenLM", "Qwen2.5", issues=5, comments=3)
    emulator.delete_issue("QwenLM", "Qwen", 3)
    emulator.transfer_issue("QwenLM", "Qwen", 4, "QwenLM", "Qwen2.5")
    faults = [
        ("secondary", {"seconds": 1}, "secondary rate limit (403)"),
        ("429", {"seconds": 1}, "secondary rate limit (429)"),
        ("primary", {"seconds": 2}, "primary rate limit (403)"),
        ("502", {}, "server error 502"),
        ("slow", {"seconds": 2.5}, "timeout"),
        ("truncated", {"path_contains": "/comments"}, "cut or invalid JSON"),
    ]
    step = max(LINKS // 20, 2)
    for round_ in range(3):
        for n, (kind, options, _) in enumerate(faults):
            after = step * (round_ * len(faults) + n)
            emulator.inject(
                kind, **{"path_contains": "/repos/QwenLM/Qwen/", "after": after, **options}
            )
    links = [f"QwenLM/Qwen#{n}" for n in range(1, LINKS + 1)]
    started = time.monotonic()
    job = jobs.start_mining_job(
        project=project,
        links=links,
        kind=MiningJob.Kind.SINGLE,
        api_url=emulator.url,
        dispatch=False,
    )
    job = jobs.run_job_sync(job=job)
    seconds = time.monotonic() - started
    log = "\n".join(job.log)
    named = [("301", "moved (301)"), ("410", "deleted (410)")]
    named += [(kind, text) for kind, _, text in faults]
    met = sum(fault.times == 0 for fault in emulator.faults)
    print(f"  job {job.status} in {seconds:.0f} s, {job.requests} requests; faults met {met}/18")
    for kind, text in named:
        print(f"  log names {kind:9}: {log.count(text)} line(s) {verdict(text in log)}")
    stored = Issue.objects.filter(repository__name="Qwen", fetched=True, gone="")
    issues_ok = set(stored.values_list("github_id", flat=True)) == {
        i["id"] for i in source.issues.values()
    }
    comments = set(
        Comment.objects.filter(issue__repository__name="Qwen").values_list("github_id", flat=True)
    )
    comments_ok = comments == set(source.comments)
    gone = Issue.objects.filter(repository__name="Qwen", gone__in=["410", "301"]).count()
    print(
        f"  goal complete data: issues {verdict(issues_ok)}, comments {verdict(comments_ok)}, "
        f"410 and 301 recorded {verdict(gone == 2)}"
    )


def _terminator(database, stop_event, killed):
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        while not stop_event.is_set():
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))
            stop_event.wait(0.4)


def scenario_database():
    print(f"4. PostgreSQL backends terminated every 0.4 s: {CLIENTS} clients, {ITEMS} items")
    project, tokens, _ = build_project(slug="bench-pg", items=ITEMS, annotators=CLIENTS)
    bodies = label_bodies(project)
    connections.close_all()
    log = WORK / "gunicorn.log"
    server, base = start_gunicorn(database_url=BENCH_URL, log=log, workers=4, DB_CONN_MAX_AGE="60")
    stop_event, killed, tally = threading.Event(), [], Tally()
    terminator = threading.Thread(target=_terminator, args=(DB_NAME, stop_event, killed))
    try:
        terminator.start()
        seconds = run_clients(
            CLIENTS,
            annotate_until_empty,
            tokens=tokens,
            base=base,
            slug=project.slug,
            bodies=bodies,
            tally=tally,
            retry_statuses=frozenset({503}),
            max_rounds=ITEMS * 4,
        )
    finally:
        stop_event.set()
        terminator.join()
        stop(server)
        connections.close_all()  # this process's own connection was terminated too
    statuses = sorted(tally.statuses.items(), key=str)
    print(f"  {sum(killed)} backends terminated; {tally.requests} requests in {seconds:.0f} s")
    print("  statuses: " + ", ".join(f"{e} {s}: {n}" for (e, s), n in statuses))
    unclear = [e for e in tally.errors if e[1] not in (409, 503)]
    hung = [e for e in tally.errors if "Timeout" in str(e[1])]
    counts = annotation_counts(project)
    problems = integrity_problems(project)
    print(
        f"  goal every failure is a clear 503 (or a retried 409): {len(unclear)} other "
        f"{verdict(not unclear)}; hung requests {len(hung)} {verdict(not hung)}"
    )
    print(
        f"  goal recovered, nothing lost: items by annotation count {dict(counts)} "
        f"{verdict(counts == {project.overlap: ITEMS})}"
    )
    print(f"  goal nothing half-written: {problems or 'none'} {verdict(not problems)}")


def scenario_restart():
    print(
        f"5. PostgreSQL restarted {PG_RESTARTS} times (down {PG_DOWN:g} s each): "
        f"{CLIENTS} clients, {ITEMS} items"
    )
    connections.close_all()
    with PrivatePostgres() as cluster:
        url = cluster.copy_database(BENCH_URL, "faultline")
        with connected_to(url):
            project, tokens, _ = build_project(
                slug="bench-restart", items=ITEMS, annotators=CLIENTS
            )
            log = WORK / "gunicorn-restart.log"
            server, base = start_gunicorn(
                database_url=url, log=log, workers=4, DB_CONN_MAX_AGE="60"
            )
            try:
                outcome = label_through_restarts(
                    cluster=cluster,
                    base=base,
                    project=project,
                    tokens=tokens,
                    restarts=PG_RESTARTS,
                    down_seconds=PG_DOWN,
                )
                not_served = unserved(base, project.slug, tokens)
            finally:
                stop(server)
            problems = lost_or_half_written(project, outcome.tally.labeled)
    tally = outcome.tally
    for n, restart in enumerate(outcome.restarts, 1):
        print(
            f"  restart {n} at {restart.at_seconds:.1f} s, {restart.seconds:.1f} s long: "
            f"{restart.labeled_before} -> {restart.labeled_after} of {outcome.expected} "
            "submissions saved"
        )
    mid_run = len(outcome.restarts) == PG_RESTARTS and all(
        r.labeled_after < outcome.expected for r in outcome.restarts
    )
    statuses = sorted(tally.statuses.items(), key=str)
    print(f"  {tally.requests} requests in {outcome.seconds:.0f} s")
    print("  statuses: " + ", ".join(f"{e} {s}: {n}" for (e, s), n in statuses))
    print(f"  pages read: {dict(outcome.pages)}")
    unclear = unclear_failures(tally)
    print(f"  goal every restart mid-run: {verdict(mid_run)}")
    print(f"  goal every failure a clear 503 (or a retried 409): {len(unclear)} other", end=" ")
    print(verdict(not unclear))
    print(
        f"  goal pages are the page or the 503 page: {len(outcome.unclear_pages)} other "
        f"{verdict(not outcome.unclear_pages)}"
    )
    print(f"  goal recovered by itself: {len(not_served)} clients not served", end=" ")
    print(verdict(not not_served))
    print(f"  goal nothing lost or half-written: {problems or 'none'} {verdict(not problems)}")


def main():
    call_command("migrate", verbosity=0)
    emulator = GitHubEmulator(token="ghp_" + secrets.token_hex(16)).start()
    os.environ["GITHUB_TIMEOUT"] = "2"
    from django.conf import settings

    settings.GITHUB_TOKEN = emulator.token
    project = create_project(name="Bench faults", slug="bench-faults", preset=False)
    crawls = {"1": scenario_kills, "2": scenario_redis, "3": scenario_every_fault}
    try:
        for key, scenario in crawls.items():
            if key in SCENARIOS:
                scenario(emulator, project)
    finally:
        emulator.stop()
    if "4" in SCENARIOS:
        scenario_database()
    if "5" in SCENARIOS:
        scenario_restart()


if __name__ == "__main__":
    try:
        main()
    finally:
        connections.close_all()
        stop(REDIS)
        recreate_database(DB_NAME, ADMIN_URL, drop_only=True)
