"""The audit trail's stored failure records in the API's one record shape.

Until now an audit event stored records as [{dimension key: category path}] (submissions'
`records`, and the `records` of a `final` or `replaced` final label). The API now reads
and writes one shape (annotate.records):

    {"record": n, "labels": [{"dimension": key, "category": id, "path": path, "evidence": ""}]}

Forwards rewrites each stored record into it: `record` is its position, `category` the id
of the category that has that path in the event's project today (null when the path no
longer names one, e.g. a category renamed since), `evidence` "" (the old snapshots never
held it), the labels in their dimensions' order (PostgreSQL's jsonb kept no key order). Backwards writes [{dimension key: path}] back, which restores the old payload
exactly. Events already in the new shape are left alone, so both directions can be re-run.
This module carries its own copy of the conversion (a migration must not follow the app's
code as it changes).
"""

from django.db import migrations
from django.db.models import Q

# Where an event's payload holds records: its own, and those of the final labels it names.
HOLDERS = ((), ("final",), ("replaced",))
BATCH = 1000


def _is_old(records) -> bool:
    return isinstance(records, list) and all(
        isinstance(r, dict) and not isinstance(r.get("labels"), list) for r in records
    )


def _is_new(records) -> bool:
    return isinstance(records, list) and all(
        isinstance(r, dict) and isinstance(r.get("labels"), list) for r in records
    )


def to_one_shape(records, category_id, order) -> list[dict]:
    """[{key: path}] as records in the one shape; `category_id(key, path)` -> id or None,
    `order(key)` -> where the dimension stands."""
    return [
        {
            "record": number,
            "labels": [
                {
                    "dimension": key,
                    "category": category_id(key, path),
                    "path": path,
                    "evidence": "",
                }
                for key, path in sorted(record.items(), key=lambda pair: order(pair[0]))
            ],
        }
        for number, record in enumerate(records)
    ]


def to_paths(records) -> list[dict]:
    """Records in the one shape as the former [{key: path}]."""
    return [
        {label.get("dimension"): label.get("path") for label in record["labels"]}
        for record in records
    ]


def _rewrite(apps, convert, wanted) -> int:
    """Apply `convert` to every stored record list that `wanted` accepts; the number of
    events changed."""
    AuditEvent = apps.get_model("annotate", "AuditEvent")
    holds = Q(payload__has_key="records")
    for holder in HOLDERS[1:]:
        holds |= Q(**{f"payload__{holder[0]}__has_key": "records"})
    changed = []
    count = 0
    for event in AuditEvent.objects.filter(holds).order_by("pk").iterator(chunk_size=BATCH):
        payload = event.payload
        touched = False
        for holder in HOLDERS:
            place = payload.get(holder[0]) if holder else payload
            if isinstance(place, dict) and wanted(place.get("records")) and place["records"]:
                place["records"] = convert(event.project_id, place["records"])
                touched = True
        if touched:
            changed.append(event)
        if len(changed) >= BATCH:
            AuditEvent.objects.bulk_update(changed, ["payload"])
            count += len(changed)
            changed = []
    AuditEvent.objects.bulk_update(changed, ["payload"])
    return count + len(changed)


def forwards(apps, schema_editor=None) -> int:
    Category = apps.get_model("annotate", "Category")
    Dimension = apps.get_model("annotate", "Dimension")
    books: dict[int, tuple[dict, dict]] = {}

    def book(project_id):
        if project_id not in books:
            rows = Category.objects.filter(dimension__project_id=project_id).values_list(
                "dimension__key", "path", "pk"
            )
            dimensions = Dimension.objects.filter(project_id=project_id)
            books[project_id] = (
                {(key, path): pk for key, path, pk in rows},
                {key: (order, key) for key, order in dimensions.values_list("key", "order")},
            )
        return books[project_id]

    def convert(project_id, records):
        ids, orders = book(project_id)
        return to_one_shape(
            records,
            lambda key, path: ids.get((key, path)),
            lambda key: orders.get(key, (len(orders), str(key))),
        )

    return _rewrite(apps, convert, _is_old)


def backwards(apps, schema_editor=None) -> int:
    return _rewrite(apps, lambda _, records: to_paths(records), _is_new)


class Migration(migrations.Migration):
    dependencies = [("annotate", "0013_open_coding")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
