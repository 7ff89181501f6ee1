"""The fix in the exports: each record's `fixed`, `time_to_fix` and `fixes` (its issue's
fix links, mined through GraphQL: mining/fixes.py).

Definitions (docs/fixes.md):
- `fixed`: the issue has a merged pull request that closes it (GitHub's
  `closedByPullRequestsReferences`); a commit that only mentions the issue does not count.
  None when the fix links were never fetched for the issue, or when the project may not
  read its repository's text. Links the project may not read (a private repository's,
  mining.access.visible_links_q) are neither listed nor counted.
- `time_to_fix`: days (three decimals) from the issue's creation to the merge of its first
  merged closing pull request; None when not fixed.
- `fixes`: every link (closing and referencing pull requests, referencing commits) with
  kind, ref, url, title, state, merged, merged_at, files_changed, additions, deletions.

Rows are read in chunks (the export's own): one query per chunk whose issues' links were
fetched, none for a project that never fetched them; memory stays flat.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from mining.access import readable_fix_links
from mining.models import FixLink

FIX_FIELDS = ("fixed", "time_to_fix", "fixes")
LINK_FIELDS = (
    "kind",
    "ref",
    "url",
    "title",
    "state",
    "merged",
    "merged_at",
    "files_changed",
    "additions",
    "deletions",
)
SECONDS_PER_DAY = 86_400


def link_document(link: FixLink) -> dict:
    row = {name: getattr(link, name) for name in LINK_FIELDS}
    row["merged_at"] = link.merged_at.isoformat() if link.merged_at else None
    return row


def fix_summary(created: datetime | None, links: list[FixLink], synced: bool) -> dict:
    """`fixed`, `time_to_fix` (days) and `fixes` of one issue (definitions above)."""
    merges = [
        link.merged_at
        for link in links
        if link.kind == FixLink.Kind.CLOSING_PR and link.merged and link.merged_at
    ]
    fixed = bool(merges) if synced else None
    days = None
    if merges and created is not None:
        days = round((min(merges) - created).total_seconds() / SECONDS_PER_DAY, 3)
    return {"fixed": fixed, "time_to_fix": days, "fixes": [link_document(x) for x in links]}


def with_fixes(project, rows: Iterator[dict], chunk: int) -> Iterator[tuple[dict, dict]]:
    """(row, fix summary) for export rows carrying `issue_pk`, `created`, `fixes_synced`
    and `readable`, `chunk` rows at a time: one query per chunk that holds an issue whose
    links were fetched, none otherwise."""
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            yield from _pair(project, batch)
            batch = []
    if batch:
        yield from _pair(project, batch)


NOT_KNOWN = {"fixed": None, "time_to_fix": None, "fixes": []}


def _pair(project, batch: list[dict]) -> Iterator[tuple[dict, dict]]:
    synced = {row["issue_pk"] for row in batch if row["readable"] and row["fixes_synced"]}
    links: dict[int, list] = {}
    if synced:
        # Only the links the project may read (a private repository's are left out):
        # listed, and counted in `fixed` and `time_to_fix`, as the distributions count.
        rows = readable_fix_links(project, synced).order_by("issue_id", "kind", "merged_at", "ref")
        for link in rows:
            links.setdefault(link.issue_id, []).append(link)
    summaries = {pk: None for pk in synced}
    for row in batch:
        pk = row["issue_pk"]
        if pk not in synced:
            yield row, NOT_KNOWN
            continue
        if summaries[pk] is None:
            summaries[pk] = fix_summary(row["created"], links.get(pk, []), synced=True)
        yield row, summaries[pk]


def csv_cells(record: dict) -> dict:
    """A record for a CSV cell per field: the fix list as compact JSON text."""
    if isinstance(record.get("fixes"), list):
        record = {**record, "fixes": json.dumps(record["fixes"], ensure_ascii=False)}
    return record
