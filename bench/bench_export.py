"""Benchmark: stream 1,000,000 final failure records as JSONL through the API, beside
PostgreSQL's own COPY (SELECT …) TO STDOUT of the same query (the ceiling); and import a
706-record olf dataset shaped like the study's.

Goals: export at least a third of COPY's rate with the server's peak memory under 300 MB;
import under 5 s.

Runs in its own database, bench_export (created and dropped here), with gunicorn serving
the API in a subprocess. BENCH_EXPORT_ROWS scales the export (default 1000000).
"""

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
DB_NAME = "bench_export"
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/faultline")
parts = urlsplit(BASE_URL)
BENCH_URL = urlunsplit(parts._replace(path=f"/{DB_NAME}"))
ADMIN_URL = urlunsplit(parts._replace(path="/postgres"))


def recreate_database():
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database():
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


recreate_database()
os.environ["DATABASE_URL"] = BENCH_URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from annotate.models import Category  # noqa: E402
from annotate.projects import services  # noqa: E402
from dataset.exporting import final_rows_query  # noqa: E402
from dataset.importing import collect_sources, import_dataset  # noqa: E402


def leaves(project):
    """Leaf category ids per dimension id."""
    result = {}
    for dimension in project.dimensions.all():
        cats = Category.objects.filter(dimension=dimension)
        parents = set(cats.exclude(parent=None).values_list("parent_id", flat=True))
        result[dimension.pk] = [c.pk for c in cats if c.pk not in parents]
    return result


def fill(project, rows: int):
    """`rows` settled items with one imported final failure record each, written by COPY."""
    by_dimension = leaves(project)
    repos = [(i + 1, f"owner{i % 3}", f"repo{i}", f"group{i % 3}") for i in range(14)]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # Skip the per-row foreign-key triggers while loading rows that are consistent by
        # construction (the bench runs as the database's superuser).
        cursor.execute("SET session_replication_role = replica")
        with cursor.cursor.copy(
            "COPY mining_repository (id, owner, name, issues_etag, comments_etag, created_at) "
            "FROM STDIN"
        ) as copy:
            for pk, owner, name, _group in repos:
                copy.write_row((pk, owner, name, "", "", "2026-01-01"))
        # The groups are the project's own view of the repositories.
        with cursor.cursor.copy(
            'COPY mining_projectrepository (project_id, repository_id, "group", metadata, mined, '
            "added_at) FROM STDIN"
        ) as copy:
            for pk, _owner, _name, group in repos:
                copy.write_row((project.pk, pk, group, "{}", False, "2026-01-01"))
        started = time.perf_counter()
        with cursor.cursor.copy(
            "COPY mining_issue (id, repository_id, number, title, body, state, author, labels, "
            "comment_count, is_pull_request, raw, fetched, gone, moved_to) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                copy.write_row(
                    (i, i % 14 + 1, i, "", "", "closed", "", "[]", 0, False, "{}", False, "", "")
                )
        with cursor.cursor.copy(
            "COPY annotate_item (id, project_id, issue_id, state, position, calibration, batch, "
            "discussed, assigned_count, submitted_count, metadata, snapshot_title, "
            "snapshot_body, edited_since_labeling, created_at, settled_at) FROM STDIN"
        ) as copy:
            meta = json.dumps({"model": "Qwen2.5", "architecture": "Mixed"})
            for i in range(1, rows + 1):
                copy.write_row(
                    (i, project.pk, i, "settled", i, False, "", False, 0, 0, meta, "", "",
                     False, "2026-01-01", "2026-01-02")
                )  # fmt: skip
        with cursor.cursor.copy(
            "COPY annotate_finallabel (id, item_id, provenance, out_of_scope, "
            "out_of_scope_reason, rationale, error_kind, codebook_needs_work, codebook_version, "
            "decided_at) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                copy.write_row((i, i, "imported", False, "", "", "", False, 1, "2026-01-02"))
        with cursor.cursor.copy(
            "COPY annotate_finalrecordlabel (final_id, item_id, record, dimension_id, "
            "category_id) FROM STDIN"
        ) as copy:
            for i in range(1, rows + 1):
                for dimension_id, ids in by_dimension.items():
                    copy.write_row((i, i, 0, dimension_id, ids[i % len(ids)]))
        for table in ("mining_repository", "mining_issue", "annotate_item", "annotate_finallabel"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def copy_ceiling(project) -> tuple[int, float]:
    """PostgreSQL's COPY of the export's own query, read to the end."""
    dimensions = list(project.dimensions.all())
    sql, params = final_rows_query(project, dimensions).query.sql_with_params()
    with psycopg.connect(BENCH_URL) as conn:
        literal = psycopg.ClientCursor(conn).mogrify(sql, params)
        started = time.perf_counter()
        lines = 0
        with conn.cursor().copy(f"COPY ({literal}) TO STDOUT") as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
        return lines, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def export_through_api(project, token: str) -> tuple[int, float, float]:
    import requests

    port = free_port()
    env = {**os.environ, "DATABASE_URL": BENCH_URL, "DJANGO_SETTINGS_MODULE": "config.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
         "--timeout", "900", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/api/projects/{project.slug}/export/"
        for _ in range(100):
            try:
                requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=60)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        headers = {"Authorization": f"Token {token}"}
        started = time.perf_counter()
        lines = 0
        with requests.get(
            url, params={"format": "jsonl", "labels": "final"}, headers=headers, stream=True,
            timeout=900,
        ) as response:  # fmt: skip
            response.raise_for_status()
            for block in response.iter_content(chunk_size=1 << 20):
                lines += block.count(b"\n")
        elapsed = time.perf_counter() - started
        peak = max(peak_rss_mb(pid) for pid in worker_pids(server.pid))
        return lines, elapsed, peak
    finally:
        server.terminate()
        server.wait(timeout=30)


def study_shaped_files(folder: Path, project) -> None:
    """14 files of 706 records on 703 issues in folders whose names hold or end in spaces."""
    rng = random.Random(7)
    paths = {
        d.key: [
            " - ".join(c.path.split(" > "))
            for c in Category.objects.filter(dimension=d)
            if not c.children.exists()
        ]
        for d in project.dimensions.all()
    }
    number = 0
    for f in range(14):
        records = []
        for _ in range(50 + (f < 3)):
            number += 1
            link = f"https://github.com/Org{f % 3}/Repo{f}/issues/{number}"
            copies = 2 if number in (10, 300, 600) else 1
            for _copy in range(copies):
                records.append(
                    {"number": len(records) + 1, "link": link, "status": "closed",
                     "SYMPTOM": rng.choice(paths["symptom"]),
                     "ROOT CAUSE": rng.choice(paths["root_cause"]),
                     "STAGE": rng.choice(paths["stage"]), "model": f"Repo{f}",
                     "architecture": "Dense"}
                )  # fmt: skip
        target = folder / f"Org{f % 3}" / f"Repo {f} " / f"repo{f}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(records, indent=2))


def main():
    try:
        call_command("migrate", verbosity=0)
        owner = get_user_model().objects.create_user("bench-owner", password="bench-pass-123")
        project = services.create_project(name="Bench", slug="bench", owner=owner)
        token = Token.objects.create(user=owner).key
        print(f"sizes: {ROWS:,} final failure records (BENCH_EXPORT_ROWS), 706 import records")
        fill_seconds = fill(project, ROWS)
        print(f"fill via COPY: {fill_seconds:.1f} s")

        copied, copy_seconds = copy_ceiling(project)
        copy_rate = copied / copy_seconds
        print(f"COPY (SELECT …) TO STDOUT: {copied:,} rows in {copy_seconds:.1f} s = "
              f"{copy_rate:,.0f} rows/s (the ceiling)")  # fmt: skip

        lines, seconds, peak = export_through_api(project, token)
        rate = lines / seconds
        print(f"API export (JSONL, gunicorn, 1 worker): {lines:,} rows in {seconds:.1f} s = "
              f"{rate:,.0f} rows/s = {rate / copy_rate:.2f} of COPY (goal >= 0.33)")  # fmt: skip
        print(f"server peak RSS: {peak:.0f} MB (goal < 300 MB)")
        assert lines == ROWS, f"exported {lines} rows, expected {ROWS}"

        other = services.create_project(name="Bench import", slug="bench-import", owner=owner)
        with tempfile.TemporaryDirectory() as folder:
            study_shaped_files(Path(folder), other)
            sources = collect_sources([folder], "olf")
            started = time.perf_counter()
            result = import_dataset(project=other, sources=sources)
            seconds = time.perf_counter() - started
        print(f"import of {result.records} olf records on {result.issues} issues from "
              f"{result.files} files: {seconds:.2f} s (goal < 5 s)")  # fmt: skip
    finally:
        connection.close()
        drop_database()


if __name__ == "__main__":
    main()
