"""A study late in labeling, for the benches (issue #16): settled items already labeled by
two annotators each, with their assignments, annotations, labels (the agreement triggers
fire on them as they would) and final labels, written set-based in a few statements.

`prefill(project, annotator_ids, annotations=1_000_000)` adds annotations / 2 such items
(and their issues, in a repository of their own) to `project`, behind the items the queue
still has to give out (their positions come after every existing one). Needs Django set
up on PostgreSQL. Columns the statements do not name take their model field's default, so
a field added later needs no change here."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Category,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from mining.models import Issue, ProjectRepository, Repository


def _insert(model, given: dict, source: str, params: list) -> int:
    """INSERT INTO model's table (every concrete column) SELECT the `given` SQL expressions
    (a string, or (SQL, its parameters)), and each other column's default, FROM `source`
    (with `params`); returns the row count."""
    columns, values, arguments = [], [], []
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in given:
            continue
        if field.has_db_default() and field.column not in given:
            continue  # the database fills it (db_default)
        columns.append(field.column)
        if field.column in given:
            expression = given[field.column]
            sql, extra = expression if isinstance(expression, tuple) else (expression, [])
            values.append(sql)
            arguments.extend(extra)
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default = now
        else:
            default = field.get_default()
        values.append("%s")
        arguments.append(field.get_db_prep_save(default, connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments + params)
        return cursor.rowcount


def _leaf(project, dimension: str) -> int:
    return (
        Category.objects.filter(
            dimension__project=project, dimension__key=dimension, children__isnull=True
        )
        .order_by("path")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def prefill(project, annotator_ids: list[int], annotations: int = 1_000_000) -> int:
    """Add annotations / 2 settled items, each labeled alike by two of `annotator_ids`
    (round robin), to `project`. Returns the number of annotations written."""
    items = annotations // 2
    labels = {key: _leaf(project, key) for key in ("symptom", "root_cause", "stage")}
    dimensions = dict(project.dimensions.filter(key__in=labels).values_list("key", "pk"))
    repo = Repository.objects.create(owner=f"{project.slug}-late", name="labeled")
    ProjectRepository.objects.create(project=project, repository=repo, group="Labeled")
    start = (Item.objects.filter(project=project).order_by("-position").first()).position + 1
    _insert(
        Issue,
        {
            "repository_id": ("%s", [repo.pk]),
            "number": "n",
            "title": "'Labeled long ago, case ' || n",
            "body": "'Settled before the bench began.'",
            "state": "'closed'",
            "fetched": "true",
        },
        "generate_series(1, %s) AS n",
        [items],
    )
    _insert(
        Item,
        {
            "project_id": ("%s", [project.pk]),
            "issue_id": "i.id",
            "position": ("%s + i.number", [start]),
            "state": "'settled'",
            "settled_at": "now()",
            "assigned_count": "2",
            "submitted_count": "2",
        },
        "mining_issue i WHERE i.repository_id = %s",
        [repo.pk],
    )
    pairs = (
        "(SELECT it.id AS item_id, it.position, r.k, "
        "(%s::bigint[])[1 + (it.position + r.k) %% %s] AS annotator_id "
        "FROM annotate_item it JOIN mining_issue i ON i.id = it.issue_id "
        "CROSS JOIN (VALUES (0), (1)) AS r(k) WHERE i.repository_id = %s) AS p"
    )
    pair_params = [annotator_ids, len(annotator_ids), repo.pk]
    _insert(
        Assignment,
        {
            "item_id": "p.item_id",
            "annotator_id": "p.annotator_id",
            "state": "'submitted'",
            "completed_at": "now()",
        },
        pairs,
        pair_params,
    )
    written = _insert(
        Annotation,
        {"item_id": "p.item_id", "annotator_id": "p.annotator_id", "confidence": "4"},
        pairs,
        pair_params,
    )
    annotated = (
        "annotate_annotation a JOIN annotate_item it ON it.id = a.item_id "
        "JOIN mining_issue i ON i.id = it.issue_id "
        "CROSS JOIN (VALUES (%s::bigint, %s::bigint), (%s, %s), (%s, %s)) AS d(dim, cat) "
        "WHERE i.repository_id = %s"
    )
    pairs_of_labels = [v for key in labels for v in (dimensions[key], labels[key])]
    _insert(
        AnnotationLabel,
        {
            "annotation_id": "a.id",
            "item_id": "a.item_id",
            "annotator_id": "a.annotator_id",
            "dimension_id": "d.dim",
            "category_id": "d.cat",
        },
        annotated,
        pairs_of_labels + [repo.pk],
    )
    _insert(
        FinalLabel,
        {"item_id": "it.id", "provenance": "'unanimous'"},
        "annotate_item it JOIN mining_issue i ON i.id = it.issue_id WHERE i.repository_id = %s",
        [repo.pk],
    )
    _insert(
        FinalRecordLabel,
        {
            "final_id": "f.id",
            "item_id": "f.item_id",
            "dimension_id": "d.dim",
            "category_id": "d.cat",
        },
        "annotate_finallabel f JOIN annotate_item it ON it.id = f.item_id "
        "JOIN mining_issue i ON i.id = it.issue_id "
        "CROSS JOIN (VALUES (%s::bigint, %s::bigint), (%s, %s), (%s, %s)) AS d(dim, cat) "
        "WHERE i.repository_id = %s",
        pairs_of_labels + [repo.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return written
