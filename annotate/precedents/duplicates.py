"""A project's near-duplicate groups (issue #19): over its items' issues (the API, the
consistency report) or over the issues a pool definition selects (the pool builder).
The grouping itself is mining's (mining.duplicates): this names the scope and the
threshold, and checks the threshold the owner typed."""

from __future__ import annotations

from annotate.access import item_issues
from annotate.errors import ServiceError
from annotate.models import Project
from mining.duplicates import DuplicateGroup, duplicate_groups

DEFAULT_THRESHOLD = 0.6


def parse_threshold(raw, default: float = DEFAULT_THRESHOLD) -> float:
    """A threshold in (0, 1] from user input; ServiceError naming the problem otherwise."""
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ServiceError("The threshold must be a number between 0 and 1.") from None
    if not 0 < value <= 1:  # NaN fails this too
        raise ServiceError("The threshold must be above 0 and at most 1.")
    return value


def item_duplicate_groups(*, project: Project, threshold: float) -> list[DuplicateGroup]:
    """Near-duplicate groups among the issues of `project`'s items."""
    return duplicate_groups(item_issues(project).values_list("pk", flat=True), threshold)
