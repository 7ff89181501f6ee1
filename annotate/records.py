"""Failure records: label rows grouped by their record number, and their one wire shape.

A label row (AnnotationLabel, AnnotationRoundLabel, FinalRecordLabel, or a submission's
resolved label) names its `record`, its dimension and its category. Everything that
shows, compares or stores an annotation's or a final label's records groups those rows
the same way: by record number, in record order, each record's labels in the order the
rows came (by dimension order when asked). This module is that grouping, once.

Every API read and write, and the audit trail's snapshots, spell a failure record in one
JSON shape (docs/architecture.md, "One shape per idea"):

    {"record": 0, "labels": [{"dimension": "symptom", "category": 12,
                              "path": "Crash > Out of Memory", "evidence": "..."}]}

`to_wire` emits it and `parse_wire` reads it. On a write `record` is optional (records are
numbered by their order), `category` is an id or a full path, `path` is ignored and
`evidence` is optional.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple


def numbered(labels: Iterable, *, dimension_order: bool = False) -> list[tuple[int, list]]:
    """(record number, its labels) in record order. With `dimension_order` each record's
    labels follow their dimensions' `order` (labels need `dimension` loaded), otherwise
    the order they came in."""
    if dimension_order:
        labels = sorted(labels, key=lambda label: label.dimension.order)
    by_record: dict[int, list] = {}
    for label in labels:
        by_record.setdefault(label.record, []).append(label)
    return [(number, by_record[number]) for number in sorted(by_record)]


def grouped(labels: Iterable, *, dimension_order: bool = False) -> list[list]:
    """The labels of each failure record, in record order (see `numbered`)."""
    return [group for _, group in numbered(labels, dimension_order=dimension_order)]


def as_ids(labels: Iterable) -> list[dict[int, int]]:
    """Records as {dimension id: category id}: what adjudication compares (labels need only
    record, dimension_id and category_id)."""
    return [{label.dimension_id: label.category_id for label in group} for group in grouped(labels)]


class LabelRow(NamedTuple):
    """A label read as plain values (a values_list row), for the functions above."""

    record: int
    dimension_id: int
    category_id: int


# ---------------------------------------------------------------------------- the wire


def label_wire(label) -> dict[str, Any]:
    """One label as the API spells it (a final label has no evidence: "")."""
    return {
        "dimension": label.dimension.key,
        "category": label.category.pk,
        "path": label.category.path,
        "evidence": getattr(label, "evidence", "") or "",
    }


def record_wire(number: int, labels: Iterable) -> dict[str, Any]:
    """One failure record (its number and its labels) in the wire shape."""
    return {"record": number, "labels": [label_wire(label) for label in labels]}


def to_wire(labels: Iterable) -> list[dict]:
    """Label rows (dimension and category loaded) as failure records in the wire shape."""
    return [record_wire(number, group) for number, group in numbered(labels)]


class LabelRef(NamedTuple):
    """One label as a client sent it, before the codebook resolves it."""

    dimension: Any  # the dimension's key as sent
    category: Any  # a category id or full path as sent (annotate.codebook.queries.category_ref)
    evidence: Any = ""


class WireError(ValueError):
    """A record that is not in the wire shape."""


# What a client reads when a record is refused for its shape (the API's 400 names it).
EXPECTED = (
    'each failure record must be {"record": optional number, "labels": [{"dimension": key, '
    '"category": id or full path, "evidence": optional text}]}'
)


def parse_wire(raw) -> list[LabelRef]:
    """One failure record from a client as its labels, in the order sent.

    Raises WireError (its message is EXPECTED, or names the bad part) for anything else,
    e.g. the former {dimension key: category} objects."""
    labels = raw.get("labels") if isinstance(raw, dict) else None
    if not isinstance(labels, list) or not all(isinstance(x, dict) for x in labels):
        raise WireError(EXPECTED)
    number = raw.get("record")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise WireError("'record' must be a whole number (or left out)")
    return [
        LabelRef(x.get("dimension"), x.get("category"), x.get("evidence") or "") for x in labels
    ]


def named_paths(records, dimension_names: dict) -> list[list[tuple[str, str]]]:
    """Records in the wire shape (as the audit trail stores them) as [[(dimension name,
    category path)]], for the pages; anything else in a payload is left out."""
    return [
        [
            (dimension_names.get(label.get("dimension"), label.get("dimension")), label.get("path"))
            for label in record["labels"]
            if isinstance(label, dict)
        ]
        for record in records or []
        if isinstance(record, dict) and isinstance(record.get("labels"), list)
    ]
