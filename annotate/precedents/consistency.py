"""The consistency report (issue #19): pairs of near-duplicate settled items whose final
labels differ, per dimension, for a lead to confirm (the difference is intended) or to
re-open one of the two (the existing re-open of a settled item).

Duplicates of one bug are labeled inconsistently in about half the cases in bug trackers
(Tian, Lo & Sun 2012, "Information retrieval based nearest neighbor classification for
fine-grained bug severity prediction"); in a failure study each such pair is one failure
counted under two labels. A pair is near-duplicate when its similarity score (mining.
similarity) reaches the threshold or when GitHub marked one a duplicate of the other.
A dimension differs when the two items' sets of category paths in it differ (an item
with several failure records holds several); "scope" differs when one item is out of
scope and the other is not. A confirmation holds while neither final label is decided
again."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from annotate.access import (
    consistency_reviews,
    final_record_labels,
    precedent_issues,
    project_dimensions,
    settled_final_labels,
    settled_items,
)
from annotate.errors import ServiceError
from annotate.models import ConsistencyReview, Item, Project
from mining.duplicates import marker_links, similar_pairs
from mining.similarity import pair_score

SCOPE = "scope"
NOTE_LIMIT = 2000


@dataclass
class Pair:
    first: Item
    second: Item
    score: float
    differences: dict[str, tuple[list[str], list[str]]]  # dimension key -> (first, second)
    confirmed: ConsistencyReview | None = None


@dataclass
class Report:
    threshold: float
    settled: int
    pairs: int  # near-duplicate pairs of settled items
    differing: list[Pair] = field(default_factory=list)
    by_dimension: dict[str, int] = field(default_factory=dict)  # pairs differing there

    @property
    def open_pairs(self) -> list[Pair]:
        return [pair for pair in self.differing if pair.confirmed is None]

    @property
    def share_differing(self) -> float | None:
        return len(self.differing) / self.pairs if self.pairs else None


def compared_items(project: Project):
    """The settled items whose issues `project` may read: the items the report compares
    (and counts: the methods section's "among the N settled items")."""
    return settled_items(project).filter(issue__in=precedent_issues(project))


def near_duplicate_pairs(project: Project, threshold: float) -> dict[tuple[int, int], float]:
    """(item id, item id) in id order -> score, over `project`'s compared settled items."""
    issue_to_item = dict(compared_items(project).values_list("issue_id", "pk"))
    issue_ids = list(issue_to_item)
    scored = dict(similar_pairs(issue_ids, threshold))
    for duplicate, original in marker_links(issue_ids):
        scored[(duplicate, original)] = 1.0
    pairs = {}
    for (a, b), score in scored.items():
        first, second = sorted((issue_to_item[a], issue_to_item[b]))
        pairs[(first, second)] = max(score, pairs.get((first, second), 0.0))
    return pairs


def consistency_report(*, project: Project, threshold: float) -> Report:
    """The report over `project`'s settled items at `threshold` (callers: leads, owners)."""
    pairs = near_duplicate_pairs(project, threshold)
    report = Report(threshold, compared_items(project).count(), len(pairs))
    if not pairs:
        return report
    involved = {pk for pair in pairs for pk in pair}
    paths = _category_paths(project, involved)
    finals = {f.item_id: f for f in settled_final_labels(project).filter(item_id__in=involved)}
    items = settled_items(project).filter(pk__in=involved).select_related("issue__repository")
    items = {item.pk: item for item in items}
    reviews = {
        (r.first_id, r.second_id): r
        for r in consistency_reviews(project).filter(first_id__in=involved)
    }
    keys = list(project_dimensions(project).order_by("order").values_list("key", flat=True))
    for (a, b), score in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
        differences = _differences(finals[a], finals[b], paths[a], paths[b], keys)
        if not differences:
            continue
        review = reviews.get((a, b))
        if review and (
            review.first_decided_at != finals[a].decided_at
            or review.second_decided_at != finals[b].decided_at
        ):
            review = None  # decided again since: the question is open again
        report.differing.append(Pair(items[a], items[b], score, differences, review))
        for key in differences:
            report.by_dimension[key] = report.by_dimension.get(key, 0) + 1
    return report


def _category_paths(project: Project, item_ids: set[int]) -> dict[int, dict[str, set]]:
    """item id -> dimension key -> the category paths of the item's final records."""
    paths: dict[int, dict[str, set]] = {pk: {} for pk in item_ids}
    rows = final_record_labels(project).filter(item_id__in=item_ids)
    for item_id, key, path in rows.values_list("item_id", "dimension__key", "category__path"):
        paths[item_id].setdefault(key, set()).add(path)
    return paths


def _differences(final_a, final_b, paths_a, paths_b, keys) -> dict:
    if final_a.out_of_scope != final_b.out_of_scope:
        return {SCOPE: (_scope(final_a), _scope(final_b))}
    if final_a.out_of_scope:
        return {}
    found = {}
    for key in keys:
        first, second = sorted(paths_a.get(key, ())), sorted(paths_b.get(key, ()))
        if first != second:
            found[key] = (first, second)
    return found


def _scope(final) -> list[str]:
    return ["out of scope"] if final.out_of_scope else ["in scope"]


def _check_listed(project: Project, first: Item, second: Item, finals: dict, threshold: float):
    """The pair is one the report lists at `threshold`: near-duplicates (the score, or
    GitHub's marker) whose final labels differ; ServiceError naming what is not."""
    paths = _category_paths(project, {first.pk, second.pk})
    keys = list(project_dimensions(project).order_by("order").values_list("key", flat=True))
    if not _differences(
        finals[first.pk], finals[second.pk], paths[first.pk], paths[second.pk], keys
    ):
        raise ServiceError("Their final labels do not differ: there is nothing to confirm.")
    issues = [first.issue_id, second.issue_id]
    similar = pair_score(*issues)
    if (similar is None or similar.score < threshold) and not marker_links(issues):
        raise ServiceError(f"These two items are not near-duplicates at threshold {threshold:g}.")


@transaction.atomic
def confirm_pair(
    *, project: Project, user, first: Item, second: Item, note: str = "", threshold: float
):
    """Record that the final labels of `first` and `second` differ on purpose. Idempotent
    (one row per pair, updated). Both items must be settled items of `project`, and a
    pair the report lists at `threshold`."""
    if first.pk == second.pk:
        raise ServiceError("A pair needs two different items.")
    if len(note) > NOTE_LIMIT:  # refused, not cut: the lead's words are kept whole or not at all
        raise ServiceError(f"The note is {len(note):,} characters; at most {NOTE_LIMIT:,}.")
    first, second = sorted((first, second), key=lambda item: item.pk)
    finals = {
        f.item_id: f
        for f in settled_final_labels(project).filter(item_id__in=[first.pk, second.pk])
    }
    if len(finals) != 2:
        raise ServiceError("Both items must be settled to confirm their labels.")
    _check_listed(project, first, second, finals, threshold)
    review, _ = ConsistencyReview.objects.update_or_create(
        first=first,
        second=second,
        defaults={
            "project": project,
            "note": note,
            "first_decided_at": finals[first.pk].decided_at,
            "second_decided_at": finals[second.pk].decided_at,
            "reviewed_by": user,
        },
    )
    return review
