"""Conflicts and alignment: comparing an item's annotations.

Annotations are compared per failure record, per dimension and per level of the category
tree; records are paired by content first (`align_records`, which the agreement report
uses too). Everything here is plain Python over ids: settling, decisions, discussion and
the side-by-side table read annotations into Sides and call it.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from annotate.models import (
    Conflict,
)
from annotate.records import as_ids

Record = dict[int, int]  # dimension id -> category id, for one failure record


@dataclass(frozen=True)
class Side:
    """One annotator's answer: out of scope, or failure records in record order."""

    out_of_scope: bool
    records: tuple


@dataclass(frozen=True)
class Difference:
    kind: str
    record: int = 0
    dimension_id: int | None = None
    level: int = 0
    a: int | None = None
    b: int | None = None


def category_chain(category_id: int | None, parents: dict[int, int | None]) -> list[int]:
    """The ids from the tree's top level down to `category_id` (empty for None)."""
    chain: list[int] = []
    while category_id is not None:
        chain.append(category_id)
        category_id = parents.get(category_id)
    return chain[::-1]


def record_disagreements(first: Record, second: Record) -> int:
    """How many dimensions two failure records disagree on (a dimension only one of them
    carries counts as a disagreement)."""
    return sum(first.get(dim) != second.get(dim) for dim in set(first) | set(second))


def align_records(first, second) -> list[tuple[int, int]]:
    """Pair the failure records of two sides by content: identical records first (each with
    the first identical partner still free, in order), then an optimal matching of the rest
    that minimizes the dimensions on which paired records disagree (the assignment problem,
    solved by scipy's ``linear_sum_assignment``; among equally good matchings it is
    deterministic). The records of the longer side left over have no partner. The agreement
    report pairs records with this same function. Returns (index in first, index in second)
    pairs sorted by the first index."""
    free = list(range(len(second)))
    pairs: dict[int, int] = {}
    for i, record in enumerate(first):
        match = next((j for j in free if second[j] == record), None)
        if match is not None:
            pairs[i] = match
            free.remove(match)
    rest = [i for i in range(len(first)) if i not in pairs]
    if rest and free:
        cost = np.array([[record_disagreements(first[i], second[j]) for j in free] for i in rest])
        rows, cols = linear_sum_assignment(cost)
        pairs.update((rest[r], free[c]) for r, c in zip(rows, cols, strict=True))
    return sorted(pairs.items())


def compare_pair(a: Side, b: Side, parents: dict[int, int | None]) -> list[Difference]:
    """Every difference between two sides; empty when they agree."""
    if a.out_of_scope or b.out_of_scope:
        return [] if a.out_of_scope and b.out_of_scope else [Difference(Conflict.Kind.SCOPE)]
    differences = []
    if len(a.records) != len(b.records):
        differences.append(Difference(Conflict.Kind.RECORDS))
    for i, j in align_records(a.records, b.records):
        ra, rb = a.records[i], b.records[j]
        for dimension_id in sorted(set(ra) | set(rb)):
            chain_a = category_chain(ra.get(dimension_id), parents)
            chain_b = category_chain(rb.get(dimension_id), parents)
            for level in range(1, max(len(chain_a), len(chain_b)) + 1):
                x = chain_a[level - 1] if level <= len(chain_a) else None
                y = chain_b[level - 1] if level <= len(chain_b) else None
                if x != y:
                    differences.append(
                        Difference(Conflict.Kind.CATEGORY, i, dimension_id, level, x, y)
                    )
    return differences


def compare_sides(sides: list[Side], parents: dict[int, int | None]) -> list[Difference]:
    """The differences between every pair of sides, without repeats."""
    found: list[Difference] = []
    for x in range(len(sides)):
        for y in range(x + 1, len(sides)):
            for difference in compare_pair(sides[x], sides[y], parents):
                if difference not in found:
                    found.append(difference)
    return found


def overrides_every_side(decision: Side, sides: list[Side]) -> bool:
    """Whether a decision departs from every annotator: out of scope when nobody said so,
    a number of records nobody gave, or a category nobody chose on that dimension."""
    if decision.out_of_scope:
        return not any(side.out_of_scope for side in sides)
    in_scope = [side for side in sides if not side.out_of_scope]
    if not in_scope:
        return True
    if len(decision.records) not in {len(side.records) for side in in_scope}:
        return True
    given = {pair for side in in_scope for record in side.records for pair in record.items()}
    return any(pair not in given for record in decision.records for pair in record.items())


def records_of(labels) -> list[Record]:
    """Label rows (anything with record, dimension_id, category_id) as records in order."""
    return as_ids(labels)


def side_of(annotation) -> Side:
    """An Annotation or AnnotationRound (labels prefetched) as a Side."""
    if annotation.out_of_scope:
        return Side(True, ())
    return Side(False, tuple(records_of(annotation.labels.all())))
