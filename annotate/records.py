"""Failure records: label rows grouped by their record number, and their wire shapes.

A label row (AnnotationLabel, AnnotationRoundLabel, FinalRecordLabel, or a submission's
resolved label) names its `record`, its dimension and its category. Everything that
shows, compares or stores an annotation's or a final label's records groups those rows
the same way: by record number, in record order, each record's labels in the order the
rows came (by dimension order when asked). This module is that grouping, once.

The API writes a record in four JSON shapes (see `Wire`); each endpoint keeps the one its
clients already read, and every one of them is produced by `to_wire` here. Records come
in through two shapes (`parse_wire`), which both end as the same (dimension key, category
id or path, evidence) triples for the services to resolve against the codebook.
"""

from collections.abc import Iterable
from enum import StrEnum
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


class Wire(StrEnum):
    """The JSON shapes of one failure record that the API's endpoints emit."""

    # {dimension key: category path}: decisions, final labels to annotators, audit trail.
    PATHS = "paths"
    # {"record": number, "labels": {dimension key: category path}}: /annotations/ and
    # /final-labels/ of the generic read API.
    NUMBERED = "numbered"
    # {dimension key: {"category": id, "path": path, "evidence": text}}: an item's
    # annotations as leads read them.
    KEYED = "keyed"
    # {"labels": [{"dimension": key, "category": id, "path": path, "evidence": text}]}:
    # the annotator's own annotation (submit and mine).
    LISTED = "listed"


def label_wire(label) -> dict[str, Any]:
    """One label's category and evidence as the API spells them."""
    return {"category": label.category_id, "path": label.category.path, "evidence": label.evidence}


def record_wire(number: int, labels: list, shape: Wire) -> dict[str, Any]:
    """One failure record (its number and its labels) in `shape`."""
    if shape == Wire.PATHS:
        return {label.dimension.key: label.category.path for label in labels}
    if shape == Wire.NUMBERED:
        return {"record": number, "labels": record_wire(number, labels, Wire.PATHS)}
    if shape == Wire.KEYED:
        return {label.dimension.key: label_wire(label) for label in labels}
    if shape == Wire.LISTED:
        listed = [{"dimension": label.dimension.key, **label_wire(label)} for label in labels]
        return {"labels": listed}
    raise ValueError(f"Unknown record shape '{shape}'.")


def to_wire(labels: Iterable, shape: Wire) -> list[dict]:
    """Label rows (dimension and category loaded) as failure records in `shape`."""
    return [record_wire(number, group, shape) for number, group in numbered(labels)]


class LabelRef(NamedTuple):
    """One label as a client sent it, before the codebook resolves it."""

    dimension: Any  # the dimension's key as sent
    category: Any  # a category id or full path as sent (annotate.codebook.queries.category_ref)
    evidence: Any = ""


class WireError(ValueError):
    """A record that is not in the shape its endpoint reads."""


def parse_wire(raw, shape: Wire) -> list[LabelRef]:
    """One failure record from a client as its labels, in the order sent.

    Two shapes come in: LISTED ({"labels": [{"dimension", "category", "evidence"?}]}, the
    annotator's submission) and PATHS ({dimension key: category id or path}, a lead's
    decision, where the caller skips an empty value: no category on that dimension)."""
    if shape == Wire.LISTED:
        labels = raw.get("labels") if isinstance(raw, dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, dict) for x in labels):
            raise WireError("must be an object with a list of labels")
        return [
            LabelRef(x.get("dimension"), x.get("category"), x.get("evidence") or "") for x in labels
        ]
    if shape == Wire.PATHS:
        if not isinstance(raw, dict):
            raise WireError("must be an object")
        return [LabelRef(key, value) for key, value in raw.items()]
    raise ValueError(f"Records are not read in the shape '{shape}'.")
