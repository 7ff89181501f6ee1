"""Precedents: the settled items of a project most like a given item, with their final
labels and the lead's rationale, so that "how did we label issues like this one?" has an
answer at the moment of judging (issue #19).

Blindness: only settled items take part (an unsettled item's labels are never shown), and
who may see the list at all is `annotate.access.may_see_precedents`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from annotate.access import final_record_labels, precedent_issues, settled_items
from annotate.models import Item, Project
from annotate.records import to_wire
from mining.similarity import similar_issues

LIMIT = 5
MIN_SCORE = 0.2  # below this the list shows noise, not precedents


@dataclass
class Precedent:
    item: Item
    score: float
    title: float
    trace: float
    same_error: bool
    records: list[dict] = field(default_factory=list)  # {dimension key: category path}

    @property
    def final(self):
        return self.item.final_label


def ranked_items(project: Project, issue_id: int, among, limit: int, min_score: float, items):
    """(item, Similar) pairs of `items` (a queryset) whose issues are most like `issue_id`."""
    found = similar_issues(issue_id, project, limit=limit, among=among, min_score=min_score)
    by_issue = {
        item.issue_id: item
        for item in items.filter(issue_id__in=[s.issue_id for s in found]).select_related(
            "issue__repository", "final_label__decided_by"
        )
    }
    return [(by_issue[s.issue_id], s) for s in found if s.issue_id in by_issue]


def precedents_for(
    *, project: Project, item: Item, limit: int = LIMIT, min_score: float = MIN_SCORE
) -> list[Precedent]:
    """The settled items most like `item` (never itself), best first, with final records.
    The caller has checked may_see_precedents. Empty outside PostgreSQL."""
    if connection.vendor != "postgresql":
        return []
    among = precedent_issues(project).exclude(pk=item.issue_id)
    rows = ranked_items(project, item.issue_id, among, limit, min_score, settled_items(project))
    finals = {
        row.final_label.pk: row for row, _ in rows if getattr(row, "final_label", None) is not None
    }
    labels: dict[int, list] = {}
    for label in _final_labels(project, finals):
        labels.setdefault(label.final_id, []).append(label)
    precedents = []
    for row, similar in rows:
        final = getattr(row, "final_label", None)
        if final is None:
            continue
        precedents.append(
            Precedent(
                item=row,
                score=similar.score,
                title=similar.title,
                trace=similar.trace,
                same_error=similar.same_error,
                records=to_wire(labels.get(final.pk, [])),
            )
        )
    return precedents


def _final_labels(project: Project, finals: dict):
    return (
        final_record_labels(project)
        .filter(final_id__in=list(finals))
        .select_related("dimension", "category")
        .order_by("final_id", "record", "dimension__order")
    )
