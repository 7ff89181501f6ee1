"""Bulk inserts with PostgreSQL's COPY, for the importer: building a model instance per row
and compiling bulk_create's per-value SQL was most of an import's time. Other databases
(SQLite for `make run`) fall back to bulk_create."""

from __future__ import annotations

from enum import Enum

from django.db import connection
from django.db.models import JSONField
from django.utils import timezone
from psycopg.types.json import Jsonb


def copy_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert label rows (no ids needed back) with PostgreSQL's COPY: building a model
    instance per label was most of an import's time. Row triggers fire as for INSERT."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(columns, row, strict=True))) for row in rows)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_models(model, instances: list) -> None:
    """Insert new model instances with COPY, their ids drawn from the table's sequence
    first (set on the instances, as bulk_create does): bulk_create's per-value SQL
    compilation was most of an import's time. Defaults and auto_now fields are filled as
    Django would; row triggers fire as for INSERT."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(instances)
        return
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(instances)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        names = ", ".join(connection.ops.quote_name(c) for c in ["id", *(f.column for f in fields)])
        json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
        stamped = {
            f.attname
            for f in fields
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        }  # noqa: E501
        quoted = connection.ops.quote_name(table)
        with cursor.copy(f"COPY {quoted} ({names}) FROM STDIN") as copy:
            for pk, instance in zip(ids, instances, strict=True):
                instance.pk = pk
                row = [pk]
                for f in fields:
                    value = getattr(instance, f.attname)
                    if f.attname in stamped and value is None:
                        value = now
                        setattr(instance, f.attname, value)
                    elif f.attname in json_fields:
                        value = Jsonb(value)
                    elif isinstance(value, Enum):
                        value = value.value
                    row.append(value)
                copy.write_row(row)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
