"""One page of the conflict queue (issues #15 and #16): its rows by keyset, in the queue's
order (oldest waiting first), from an order computed once per data version and filter set.

Ordering the queue needs every item's waiting time (its oldest open conflict), so it reads
every item in conflict: about 60-110 ms of SQL at 32,000 conflicts, too slow for every
request. The order (each item's waiting time, position and id) is cached per data version
and filter set (annotate.versioned); a request reads it, finds its page by the marker and
loads only that page's rows. The marker holds the last row's sort key, not its id, so a
page stays well defined after the queue changes (an item decided meanwhile)."""

import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from annotate.adjudication import conflicts
from annotate.models import Conflict
from annotate.versioned import cached
from mining.access import hide_unreadable

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MARKER = re.compile(r"(-?[0-9]{1,19})\.([0-9]{1,10})\.([0-9]{1,19})")
# What a row shows: the reference and title, never its body or raw object.
ROW_FIELDS = (
    "id",
    "issue_id",
    "created_at",
    "project_id",
    "issue__id",
    "issue__number",
    "issue__title",
    "issue__repository_id",
    "issue__repository__owner",
    "issue__repository__name",
    "issue__repository__source",
    "issue__repository__private",
    "snapshot_title",
)


class QueueError(ValueError):
    """A page size or page marker the queue cannot use; the message says which."""


@dataclass
class QueuePage:
    rows: list
    matching: int
    size: int
    next_marker: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.rows)

    @property
    def next_size(self) -> int:
        """How many rows the next page holds (the queue is counted in full)."""
        return max(0, min(self.size, self.matching - self.end))


def parse_size(text: str | None) -> int:
    if not text:
        return DEFAULT_PAGE_SIZE
    # ASCII digits only: str.isdigit() takes '²' (which int() refuses: a 500) and int()
    # takes other scripts' digits ('٢٥'), neither of which a page link ever writes.
    if re.fullmatch(r"[0-9]{1,3}", text) and int(text) in PAGE_SIZES:
        return int(text)
    choices = ", ".join(map(str, PAGE_SIZES))
    raise QueueError(f"'size={text[:20]}' is not a page size; choose one of {choices}.")


def parse_marker(text: str) -> tuple[int, int, int] | None:
    if not text:
        return None
    match = MARKER.fullmatch(text)
    if match is None:
        raise QueueError(
            f"'after={text[:40]}' is not a page of this queue (it was cut or changed); "
            "go back to the first page."
        )
    return int(match[1]), int(match[2]), int(match[3])


def queue_order(project, filters: dict, version: int | None = None) -> tuple:
    """(waiting time in microseconds since 1970, position, id) of every item the filters
    keep, in the queue's order, as three arrays; cached per data version and filters."""

    def compute():
        rows = conflicts.queue_keys(project, **filters)
        waits, positions, ids = array("q"), array("q"), array("q")
        for waiting, position, pk in rows:
            waits.append((waiting - EPOCH) // MICROSECOND)
            positions.append(position)
            ids.append(pk)
        return waits, positions, ids

    key = tuple(sorted((name, value) for name, value in filters.items() if value))
    return cached(project, ("conflict-queue-order", key), compute, version)


def queue_page(
    project, filters: dict, *, after: str = "", size: str | None = None, version=None
) -> QueuePage:
    """The page of the queue after the marker `after` ('' for the first), `size` rows (one of
    PAGE_SIZES), each row an item with its issue (text blanked where the project may not
    read it), `waiting_since` and `open_differences`. Two queries past the cached order:
    the rows and their open differences. `version`: the data version, if already read."""
    size_value = parse_size(size)
    marker = parse_marker(after)
    waits, positions, ids = queue_order(project, filters, version)
    start = 0
    if marker is not None:
        key = lambda i: (waits[i], positions[i], ids[i])  # noqa: E731 - the sort key of row i
        start = bisect_right(range(len(ids)), marker, key=key)
    page_ids = list(ids[start : start + size_value])
    by_id = {}
    if page_ids:
        items = conflicts.rows_by_id(project, page_ids).only(*ROW_FIELDS)
        by_id = {item.pk: item for item in items}
    rows = [by_id[pk] for pk in page_ids if pk in by_id]
    hide_unreadable(project, rows)
    differences = open_differences(rows)
    index = {pk: i for i, pk in enumerate(page_ids, start)}
    for item in rows:
        item.waiting_since = EPOCH + waits[index[item.pk]] * MICROSECOND
        item.open_differences = differences.get(item.pk, [])
    end = start + len(page_ids)
    next_marker = f"{waits[end - 1]}.{positions[end - 1]}.{ids[end - 1]}" if end < len(ids) else ""
    return QueuePage(rows, len(ids), size_value, next_marker, start)


def first_waiting(project, *, other_than=None, version=None) -> int | None:
    """The id of the item waiting longest in the unfiltered queue (other than
    `other_than`), from the cached order: what the lead opens next. None when nothing else
    waits."""
    ids = queue_order(project, {}, version)[2]
    return next((pk for pk in ids[:2] if pk != other_than), None)


def badge(conflict: dict) -> str:
    """A difference as the queue shows it: 'symptom L3: Out of Memory ↔ Device Error'."""
    if conflict["kind"] == Conflict.Kind.CATEGORY:
        a = conflict["category_a__name"] or "—"
        b = conflict["category_b__name"] or "—"
        return f"{conflict['dimension__key']} L{conflict['level']}: {a} ↔ {b}"
    if conflict["kind"] == Conflict.Kind.CODEBOOK:
        return f"codebook: {conflict['category_a__path']}"
    return str(Conflict.Kind(conflict["kind"]).label)


def open_differences(items) -> dict[int, list[str]]:
    """Each item's open conflicts as badge texts, in record, dimension and level order (one
    query, plain values: no model instances per difference)."""
    result: dict[int, list[str]] = {}
    if not items:
        return result
    rows = (
        Conflict.objects.filter(item__in=[item.pk for item in items], resolved=False)
        .order_by("record", "dimension__order", "level")
        .values(
            "item_id",
            "kind",
            "level",
            "dimension__key",
            "category_a__name",
            "category_b__name",
            "category_a__path",
        )
    )
    for row in rows:
        result.setdefault(row["item_id"], []).append(badge(row))
    return result
