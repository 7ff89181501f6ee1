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
ITEMS = int(os.environ.get("BENCH_AGREEMENT_ITEMS", "500000"))
# Keep the database afterwards (to profile queries by hand); it is dropped at the next run.
KEEP = os.environ.get("BENCH_AGREEMENT_KEEP") == "1"


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
        if not KEEP:
            with admin_connection() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


LOOKUP = 4096  # entries of each dimension's sampling table: a category's share is its weight


def skewed_lookup(ids, power=1.6) -> list[int]:
    """A table to sample category ids with a Zipf-like skew (a few categories take most
    labels) in SQL: entry k is the category at quantile (k + 0.5) / LOOKUP."""
    weights = 1.0 / np.arange(1, len(ids) + 1) ** power
    cumulative = np.cumsum(weights / weights.sum())
    picks = np.searchsorted(cumulative, (np.arange(LOOKUP) + 0.5) / LOOKUP)
    return [int(ids[min(p, len(ids) - 1)]) for p in picks]


# Item i's annotators: (first, second) as indices into the annotators, so three of five
# items go to the main pair and the rest to the pairs with the third annotator.
PAIR_PLAN = [(0, 1), (0, 1), (0, 1), (0, 2), (1, 2)]

GENERATE_SQL = [
    # Issues and items: ids 1..N in a fresh database.
    """INSERT INTO mining_issue (id, repository_id, number, title, body, state, author, labels,
        comment_count, is_pull_request, raw, fetched, gone, moved_to, created_at)
    SELECT g, %(repo)s, g, '', '', 'closed', '', '[]', 0, false, '{}', false, '', '',
        '2024-01-01' FROM generate_series(1, %(n)s) g""",
    """INSERT INTO annotate_item (id, project_id, issue_id, state, position, calibration, batch,
        discussed, assigned_count, submitted_count, metadata, snapshot_title, snapshot_body,
        edited_since_labeling, created_at)
    SELECT g, %(project)s, g, 'settled', g, g <= 2000,
        CASE WHEN g <= 1000 THEN 'pilot-1' WHEN g <= 2000 THEN 'pilot-2' ELSE '' END,
        g %% 50 = 0, 2, 2, '{}', '', '', false, '2024-01-01' FROM generate_series(1, %(n)s) g""",
    # Annotation 2i-1 is item i's first, 2i its second; labeling runs over 26 weeks of 2025
    # and the codebook moves to version 2 half way; the second annotator follows 0-3 days on.
    """CREATE UNLOGGED TABLE bench_unit AS
    SELECT g AS i, %(first)s::int[] AS first_of, %(second)s::int[] AS second_of,
        timestamptz '2025-01-06 09:00+00' + (g::float / %(n)s) * interval '182 days' AS t
    FROM generate_series(1, %(n)s) g""",
    """INSERT INTO annotate_annotation (id, item_id, annotator_id, out_of_scope,
        out_of_scope_reason, note, codebook_version, round, created_at, updated_at)
    SELECT 2 * i - 2 + j, i, CASE j WHEN 1 THEN first_of[1 + i %% 5] ELSE second_of[1 + i %% 5]
        END, false, '', '', CASE WHEN at < '2025-04-07' THEN 1 ELSE 2 END, 1, at, at
    FROM (SELECT u.i, j, u.first_of, u.second_of,
            u.t + CASE j WHEN 1 THEN interval '0' ELSE random() * interval '3 days' END AS at
          FROM bench_unit u CROSS JOIN (VALUES (1), (2)) v(j)) s""",
    # Per item and dimension: the first annotator's category, and the second's, which agrees
    # at the full path 80%% of the time and otherwise is another skewed draw.
    """CREATE UNLOGGED TABLE bench_pick AS
    SELECT i, d, first, CASE WHEN random() < 0.8 THEN first
        ELSE (%(lookup)s::int[])[d][1 + floor(random() * %(size)s)::int] END AS second
    FROM (SELECT g AS i, d,
            (%(lookup)s::int[])[d][1 + floor(random() * %(size)s)::int] AS first
          FROM generate_series(1, %(n)s) g CROSS JOIN generate_series(1, 3) d OFFSET 0) s""",
    # Labels in the order they were submitted, as a live table would hold them.
    """INSERT INTO annotate_annotationlabel (annotation_id, item_id, annotator_id, record,
        dimension_id, category_id, evidence)
    SELECT a.id, a.item_id, a.annotator_id, 0, (%(dims)s::int[])[p.d],
        CASE WHEN a.id %% 2 = 1 THEN p.first ELSE p.second END, ''
    FROM annotate_annotation a JOIN bench_pick p ON p.i = a.item_id
    ORDER BY a.created_at, a.id, p.d""",
    """INSERT INTO annotate_finallabel (id, item_id, provenance, out_of_scope,
        out_of_scope_reason, rationale, error_kind, codebook_needs_work, codebook_version,
        decided_at)
    SELECT g, g, 'unanimous', false, '', '', '', false, 2, now()
    FROM generate_series(1, %(n)s) g""",
    """INSERT INTO annotate_finalrecordlabel (final_id, item_id, record, dimension_id,
        category_id)
    SELECT i, i, 0, (%(dims)s::int[])[d], first FROM bench_pick ORDER BY i, d""",
    "DROP TABLE bench_unit",
    "DROP TABLE bench_pick",
]
BIG_TABLES = ("mining_issue", "annotate_item", "annotate_annotation", "annotate_annotationlabel",
              "annotate_finallabel", "annotate_finalrecordlabel")  # fmt: skip


def generate():
    """The issue's data set, written by the database itself (generate_series), with foreign
    key triggers off and the plain indexes built after loading, then VACUUM ANALYZE."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from annotate import services
    from annotate.models import Category, Role

    call_command("migrate", verbosity=0)
    User = get_user_model()
    owner = User.objects.create_user("bench-owner")
    coders = [User.objects.create_user(f"bench-{name}") for name in "abc"]
    project = services.create_project(name="Bench", slug="bench", owner=owner)
    for user in coders:
        services.add_member(project=project, username=user.username, role=Role.ANNOTATOR)
    dims = list(project.dimensions.order_by("order"))
    lookup = [
        skewed_lookup(
            list(
                Category.objects.filter(dimension=d, children__isnull=True)
                .order_by("path")
                .values_list("pk", flat=True)
            )
        )
        for d in dims
    ]
    t0 = time.perf_counter()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        cursor.execute(
            'INSERT INTO mining_repository (owner, name, "group", metadata, issues_etag, '
            "comments_etag, created_at) VALUES ('bench', 'repo', 'Bench', '{}', '', '', now()) "
            "RETURNING id"
        )
        params = {
            "repo": cursor.fetchone()[0],
            "project": project.pk,
            "n": ITEMS,
            "first": [coders[a].pk for a, _ in PAIR_PLAN],
            "second": [coders[b].pk for _, b in PAIR_PLAN],
            "lookup": lookup,
            "size": LOOKUP,
            "dims": [d.pk for d in dims],
        }
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes i WHERE tablename = ANY(%s) AND NOT "
            "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [list(BIG_TABLES)],
        )
        indexes = cursor.fetchall()
        cursor.execute("SET session_replication_role = replica")  # our own rows: skip FK checks
        cursor.execute("SELECT setseed(0.7)")
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for sql in GENERATE_SQL:
            cursor.execute(sql, params)
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET session_replication_role = DEFAULT")
        for table in BIG_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE")
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
            # The annotator created first (the smaller id) is "A", as in our report.
            pairs = [tuple(v[u] for u in sorted(v)) for v in units.values() if len(v) == 2]
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
