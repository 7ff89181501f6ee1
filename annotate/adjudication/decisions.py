"""Decisions and final labels: a lead's decision on an item in conflict or discussion
(taking a side per dimension, choosing a third category, splitting or merging failure
records, or marking the item out of scope), checked and written as its final label.
"""

from django.db import transaction

from annotate.adjudication.audit import _audit, _current_final, final_snapshot
from annotate.adjudication.comparison import Record, Side, overrides_every_side, side_of
from annotate.adjudication.errors import AdjudicationError
from annotate.adjudication.settling import _lock, _retired_ids, _write_final, item_annotations
from annotate.codebook.queries import CategoryRefError, read_codebook
from annotate.limits import first_too_long
from annotate.models import (
    FinalLabel,
    Item,
)
from annotate.records import WireError, parse_wire


def parse_records(*, project, raw_records) -> list[Record]:
    """Records in the wire shape (annotate.records: {"record"?, "labels": [{"dimension",
    "category": id or full path}]}) as [{dimension id: category id}], numbered by their
    order. A label with an empty category names none (the decision form's blank select);
    labels' evidence is not kept on a final label.

    Raises AdjudicationError naming the first bad record, dimension or category."""
    book = read_codebook(project)
    records = []
    for index, raw in enumerate(raw_records or []):
        try:
            labels = parse_wire(raw)
        except WireError as error:
            raise AdjudicationError(f"Failure record {index + 1}: {error}.") from None
        record: Record = {}
        seen = set()
        for key, value, _ in labels:
            dimension = book.by_key.get(key) if isinstance(key, str) else None
            if dimension is None:
                raise AdjudicationError(f"Unknown dimension '{key}'.")
            if dimension.pk in seen:
                raise AdjudicationError(
                    f"Failure record {index + 1}: dimension '{key}' is given twice."
                )
            seen.add(dimension.pk)
            if value in (None, ""):
                continue
            try:
                category = book.find(dimension.pk, value, id_first=True)
            except CategoryRefError:
                category = None
            if category is None:
                raise AdjudicationError(f"Unknown category '{value}' for dimension '{key}'.")
            record[dimension.pk] = category.pk
        missing = [d.key for d in book.dimensions if d.required and d.pk not in record]
        if missing:
            raise AdjudicationError(
                f"Failure record {index + 1} needs a category for: {', '.join(missing)}."
            )
        records.append(record)
    return records


@transaction.atomic
def decide_item(
    *,
    item: Item,
    actor,
    records: list[Record] | None = None,
    out_of_scope: bool = False,
    out_of_scope_reason: str = "",
    rationale: str = "",
    error_kind: str = "",
    codebook_needs_work: bool = False,
) -> FinalLabel:
    """A lead's decision on an item in conflict or discussion: writes the final label
    (provenance "adjudicated"), closes its conflicts and records it in the audit trail.

    `records` come from parse_records. A rationale is required when the decision departs
    from every annotator. Not idempotent: deciding a settled item raises (re-open first)."""
    if problem := first_too_long(out_of_scope_reason=out_of_scope_reason, rationale=rationale):
        raise AdjudicationError(problem)
    item = _lock(item)
    if item.state not in (Item.State.CONFLICT, Item.State.DISCUSSION):
        raise AdjudicationError(f"This item is {item.get_state_display()}; nothing to decide.")
    if error_kind not in FinalLabel.ErrorKind.values:
        raise AdjudicationError(f"Unknown error kind '{error_kind}'.")
    records = [] if out_of_scope else [r for r in (records or []) if r]
    if not out_of_scope and not records:
        raise AdjudicationError("Give at least one failure record, or mark it out of scope.")
    annotations = item_annotations(item)
    sides = [side_of(a) for a in annotations]
    used = {pair for side in sides for record in side.records for pair in record.items()}
    chosen = {pair for record in records for pair in record.items()}
    retired = _retired_ids({c for _, c in chosen - used})
    if retired:
        raise AdjudicationError("Retired categories cannot be chosen for a new decision.")
    overrides = overrides_every_side(Side(out_of_scope, tuple(records)), sides)
    rationale = rationale.strip()
    if overrides and not rationale:
        raise AdjudicationError("A rationale is required when the decision overrides both.")
    previous = _current_final(item)
    previous_state = item.state
    final = _write_final(
        item,
        provenance=FinalLabel.Provenance.ADJUDICATED,
        records=records,
        actor=actor,
        out_of_scope=out_of_scope,
        out_of_scope_reason=out_of_scope_reason.strip(),
        rationale=rationale,
        error_kind=error_kind,
        codebook_needs_work=codebook_needs_work,
    )
    _audit(
        item,
        actor,
        "adjudicated",
        from_state=previous_state,
        overrides_every_annotator=overrides,
        final=final_snapshot(final),
        replaced=previous,
    )
    return final
