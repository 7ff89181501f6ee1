"""Near-duplicates at pool building (issue #19): with a threshold set in the pool's
definition, the issues that pass the filters are grouped (mining.duplicates: similar
text at or above the threshold, or GitHub's "Duplicate of #N" marker) and the pool keeps
one representative per group, before any sample is drawn. The definition stores the
threshold, so a rebuild folds the same way; the pool page previews the groups."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from mining.duplicates import DuplicateGroup, duplicate_groups
from mining.models import Issue

PREVIEW_GROUPS = 5
PREVIEW_MEMBERS = 4


@dataclass
class Folded:
    kept: list[int]  # issue ids in their given order, one per group
    groups: list[DuplicateGroup]

    @property
    def dropped(self) -> int:
        return sum(len(g.members) - 1 for g in self.groups)


def fold(issue_ids: list[int], threshold: float | None) -> Folded:
    """`issue_ids` with every group's non-representatives left out (none without a
    threshold, or outside PostgreSQL where there is no similarity)."""
    if not threshold or connection.vendor != "postgresql" or len(issue_ids) < 2:
        return Folded(list(issue_ids), [])
    groups = duplicate_groups(issue_ids, threshold)
    dropped = {pk for g in groups for pk in g.members[1:]}
    return Folded([pk for pk in issue_ids if pk not in dropped], groups)


def preview(folded: Folded) -> list[dict]:
    """The largest groups with a few titles each, for the owner to judge the threshold."""
    shown = folded.groups[:PREVIEW_GROUPS]
    wanted = {pk for g in shown for pk in g.members[:PREVIEW_MEMBERS]}
    issues = Issue.objects.select_related("repository").in_bulk(wanted)
    return [
        {
            "size": len(group.members),
            "reasons": group.reasons,
            "score": group.score,
            "issues": [issues[pk] for pk in group.members[:PREVIEW_MEMBERS] if pk in issues],
        }
        for group in shown
    ]
