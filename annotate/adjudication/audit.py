"""History and audit: every adjudication step appends an AuditEvent; final labels and
differences are written into it as plain data (the API and the history page read them).
"""

from types import SimpleNamespace

from annotate.adjudication.comparison import Difference
from annotate.models import (
    AuditEvent,
    FinalLabel,
    Item,
)
from annotate.records import to_wire


def final_records(final: FinalLabel) -> list[dict]:
    """A final label's records in the wire shape (annotate.records)."""
    return to_wire(final.labels.select_related("dimension", "category"))


def final_snapshot(final: FinalLabel, records=None, book=None) -> dict:
    """A final label as plain data, for the audit trail and the API. With the `records`
    it was written from ([{dimension id: category id}]) and the project's codebook, no
    query is needed."""
    if records is not None and book is not None:
        wire = to_wire(
            SimpleNamespace(
                record=number, dimension=book.by_id[c].dimension, category=book.by_id[c]
            )
            for number, record in enumerate(records)
            for c in record.values()
        )
    else:
        wire = final_records(final)
    return {
        "provenance": final.provenance,
        "out_of_scope": final.out_of_scope,
        "out_of_scope_reason": final.out_of_scope_reason,
        "records": wire,
        "rationale": final.rationale,
        "error_kind": final.error_kind,
        "codebook_needs_work": final.codebook_needs_work,
        "codebook_version": final.codebook_version,
        "decided_by": final.decided_by.username if final.decided_by else None,
        "decided_at": final.decided_at.isoformat() if final.decided_at else None,
    }


def _audit(item: Item, actor, kind: str, **payload) -> AuditEvent:
    return AuditEvent.objects.create(
        project_id=item.project_id, item=item, actor=actor, kind=kind, payload=payload
    )


def _difference_payload(differences: list[Difference]) -> list[dict]:
    return [
        {
            "kind": d.kind,
            "record": d.record,
            "dimension": d.dimension_id,
            "level": d.level,
            "a": d.a,
            "b": d.b,
        }
        for d in differences
    ]


def _current_final(item: Item) -> dict | None:
    final = FinalLabel.objects.filter(item=item).select_related("decided_by").first()
    return final_snapshot(final) if final else None
