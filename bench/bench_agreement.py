"""Benchmark: the full agreement report and one distribution cross-tab on PostgreSQL,
beside what a researcher does today (export the labels to CSV, kappa with scikit-learn).

Creates and drops its own database (bench_agreement). Size: BENCH_AGREEMENT_ITEMS items
x 2 annotations x 3 dimensions, written with COPY. The issue's size is 500,000 items; writing
it takes about 5 minutes on 2 cores, so the default is 200,000 (set
BENCH_AGREEMENT_ITEMS=500000 for the full size). The size used is printed.
Goals: the report under 1 s, and at least 5x faster than export + scikit-learn.
"""

import csv
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/faultline")
DB_NAME = "bench_agreement"
ITEMS = int(os.environ.get("BENCH_AGREEMENT_ITEMS", "200000"))


def admin_connection():
    import psycopg

    url = urlparse(BASE_URL)
    return psycopg.connect(urlunparse(url._replace(path="/postgres")), autocommit=True)


def main():
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = urlunparse(urlparse(BASE_URL)._replace(path=f"/{DB_NAME}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        with admin_connection() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


def skewed(rng, ids, size, power=1.6):
    """Category ids with a Zipf-like skew: a few categories take most labels."""
    weights = 1.0 / np.arange(1, len(ids) + 1) ** power
    return rng.choice(np.array(ids), size=size, p=weights / weights.sum())


def copy_rows(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from annotate import services
    from annotate.models import Category, Role

    call_command("migrate", verbosity=0)
    User = get_user_model()
    owner = User.objects.create_user("bench-owner")
    a = User.objects.create_user("bench-a")
    b = User.objects.create_user("bench-b")
    project = services.create_project(name="Bench", slug="bench", owner=owner)
    for user in (a, b):
        services.add_member(project=project, username=user.username, role=Role.ANNOTATOR)
    dims = list(project.dimensions.order_by("order"))
    leaves = {
        d.pk: list(
            Category.objects.filter(dimension=d, children__isnull=True)
            .order_by("path")
            .values_list("pk", flat=True)
        )
        for d in dims
    }
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute(
            'INSERT INTO mining_repository (owner, name, "group", metadata, issues_etag, '
            "comments_etag, created_at) VALUES ('bench', 'repo', 'Bench', '{}', '', '', now()) "
            "RETURNING id"
        )
        repo_id = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(pg_get_serial_sequence('mining_issue', 'id'))")
        first_issue = cursor.fetchone()[0] + 1
        issue_cols = ["id", "repository_id", "number", "title", "body", "state", "author",
                      "labels", "comment_count", "is_pull_request", "raw", "fetched", "gone",
                      "moved_to", "created_at"]  # fmt: skip
        copy_rows(cursor, "mining_issue", issue_cols, (
            (first_issue + i, repo_id, i + 1, "", "", "closed", "", "[]", 0, False, "{}", False,
             "", "", "2024-01-01")
            for i in range(ITEMS)
        ))  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('mining_issue', 'id'), %s)",
            [first_issue + ITEMS],
        )
        item_cols = ["id", "project_id", "issue_id", "state", "position", "calibration", "batch",
                     "discussed", "assigned_count", "submitted_count", "metadata",
                     "snapshot_title", "snapshot_body", "edited_since_labeling",
                     "created_at"]  # fmt: skip
        copy_rows(cursor, "annotate_item", item_cols, (
            (i + 1, project.pk, first_issue + i, "settled", i, i < 1000,
             "pilot" if i < 1000 else "", False, 2, 2, "{}", "", "", False, "2024-01-01")
            for i in range(ITEMS)
        ))  # fmt: skip
        weeks = rng.integers(0, 26, size=ITEMS)
        ann_cols = ["id", "item_id", "annotator_id", "out_of_scope", "out_of_scope_reason",
                    "note", "codebook_version", "round", "created_at", "updated_at"]  # fmt: skip
        copy_rows(cursor, "annotate_annotation", ann_cols, (
            (2 * i + j + 1, i + 1, user, False, "", "", 1 + (weeks[i] >= 13), 1,
             f"2025-{1 + weeks[i] // 4:02d}-{1 + 7 * (weeks[i] % 4):02d}T10:00:00+00", "now")
            for i in range(ITEMS) for j, user in enumerate((a.pk, b.pk))
        ))  # fmt: skip
        copy_rows(cursor, "annotate_finallabel",
                  ["id", "item_id", "provenance", "out_of_scope", "out_of_scope_reason",
                   "rationale", "error_kind", "codebook_needs_work", "codebook_version",
                   "decided_at"],
                  ((i + 1, i + 1, "unanimous", False, "", "", "", False, 1, "now")
                   for i in range(ITEMS)))  # fmt: skip
        label_cols = ["annotation_id", "item_id", "annotator_id", "record", "dimension_id",
                      "category_id", "evidence"]  # fmt: skip
        for d in dims:
            first = skewed(rng, leaves[d.pk], ITEMS)
            # The second annotator agrees about 80% of the time, else picks a skewed category.
            agree = rng.random(ITEMS) < 0.8
            second = np.where(agree, first, skewed(rng, leaves[d.pk], ITEMS))
            copy_rows(cursor, "annotate_annotationlabel", label_cols, (
                (2 * i + j + 1, i + 1, user, 0, d.pk, int(cat), "")
                for i in range(ITEMS)
                for j, (user, cat) in enumerate(((a.pk, first[i]), (b.pk, second[i])))
            ))  # fmt: skip
            copy_rows(cursor, "annotate_finalrecordlabel",
                      ["final_id", "item_id", "record", "dimension_id", "category_id"],
                      ((i + 1, i + 1, 0, d.pk, int(first[i])) for i in range(ITEMS)))  # fmt: skip
        for table in ("annotate_item", "annotate_annotation"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)",
                           [2 * ITEMS + 1])  # fmt: skip
        cursor.execute("ANALYZE")
    return project, time.perf_counter() - t0


def export_and_sklearn(project) -> tuple[float, float]:
    """The researcher's path: dump every label to CSV, read it back, kappa per dimension."""
    from django.db import connection
    from sklearn.metrics import cohen_kappa_score

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "labels.csv"
        with connection.cursor() as django_cursor, path.open("wb") as out:
            sql = (
                "COPY (SELECT l.item_id, l.record, d.key, u.username, c.path "
                "FROM annotate_annotationlabel l "
                "JOIN annotate_dimension d ON d.id = l.dimension_id "
                "JOIN auth_user u ON u.id = l.annotator_id "
                "JOIN annotate_category c ON c.id = l.category_id "
                f"WHERE d.project_id = {project.pk}) TO STDOUT WITH CSV HEADER"
            )
            with django_cursor.cursor.copy(sql) as copy:
                for chunk in copy:
                    out.write(chunk)
        by_key: dict = {}
        with path.open(newline="") as handle:
            for item, record, key, user, category in csv.reader(handle):
                by_key.setdefault(key, {}).setdefault((item, record), {})[user] = category
        kappas = {}
        for key, units in by_key.items():
            if key == "key":
                continue
            pairs = [(v["bench-a"], v["bench-b"]) for v in units.values() if len(v) == 2]
            first, second = zip(*pairs, strict=True)
            kappas[key] = cohen_kappa_score(first, second)
    return time.perf_counter() - t0, kappas


def best_of(fn, runs=3):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def run():
    from analysis.agreement import build_agreement_report
    from analysis.distributions import build_crosstab
    from analysis.specs import Source, parse_spec

    project, seconds = generate()
    print(f"data: {ITEMS:,} items x 2 annotations = {2 * ITEMS:,} annotations, "
          f"{6 * ITEMS:,} labels (3 dimensions), written in {seconds:.1f} s")  # fmt: skip
    report_s, report = best_of(lambda: build_agreement_report(project=project))
    crosstab_s, _ = best_of(lambda: build_crosstab(
        project=project, rows=parse_spec("dim:symptom@1"), cols=parse_spec("dim:root_cause@1"),
        source=Source("final"),
    ))  # fmt: skip
    export_s, kappas = export_and_sklearn(project)
    ours = {r["dimension"]: r["kappa"] for r in report.rows() if r["full_path"]}
    for key, kappa in kappas.items():
        assert abs(ours[key] - kappa) < 1e-9, (key, ours[key], kappa)
    print(f"full agreement report ({len(report.rows())} dimension-levels + breakdowns): "
          f"{report_s:.3f} s   (goal < 1 s)")  # fmt: skip
    print(f"distribution cross-tab symptom@1 x root_cause@1: {crosstab_s:.3f} s")
    print(f"export to CSV + scikit-learn kappa: {export_s:.3f} s   "
          f"(ratio {export_s / report_s:.1f}x, goal >= 5x); kappas agree with ours")  # fmt: skip


if __name__ == "__main__":
    main()
