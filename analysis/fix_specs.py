"""The fix's SPECs (issue #20): `fixed` and `time_to_fix`, item attributes computed by the
database from the issue's fix links (mining.FixLink, mined through GraphQL).

- `fixed`: "fixed" when a merged pull request closes the issue, "not fixed" when the
  issue's links were fetched and none does; "(none)" when they were never fetched or the
  project may not read the repository (the rule of the export, dataset/fixes.py). A
  pull request of a private repository the project does not read is not counted.
- `time_to_fix`: the time from the issue's creation to the merge of its first merged
  closing pull request, binned (TIME_TO_FIX_BINS; a month is 30 days, so "1–6 months"
  ends at 180 days; a merge dated before the issue counts as "< 1 day"); "(none)" when
  not fixed or unknown.
"""

from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Round
from django.db.models.lookups import LessThan

from annotate.access import project_items
from mining.access import readable_by_own_project_q, visible_links_q
from mining.models import FixLink, Issue

FIXED, NOT_FIXED = "fixed", "not fixed"
# (upper bound, label), in order; the last bin has no bound.
TIME_TO_FIX_BINS = [
    (timedelta(days=1), "< 1 day"),
    (timedelta(days=7), "1–7 days"),
    (timedelta(days=28), "1–4 weeks"),
    (timedelta(days=180), "1–6 months"),
    (None, "> 6 months"),
]
FIX_KINDS = ("fixed", "time_to_fix")
SECONDS_PER_DAY = 86_400


def _merged_closing():
    """The item's issue's merged closing pull requests that its project may read (a
    private repository's are not counted: mining.access.visible_links_q)."""
    return FixLink.objects.filter(
        visible_links_q(OuterRef("item__project")),
        issue=OuterRef("item__issue"),
        kind=FixLink.Kind.CLOSING_PR,
        merged=True,
        merged_at__isnull=False,
    )


def _known() -> Q:
    return Q(item__issue__fixes_synced_at__isnull=False) & readable_by_own_project_q("item__")


def fixed_expression():
    return Case(
        When(_known() & Exists(_merged_closing()), then=Value(FIXED)),
        When(_known(), then=Value(NOT_FIXED)),
        default=Value(None),
    )


def time_to_fix_expression():
    """The index of the bin in TIME_TO_FIX_BINS, or None."""
    first = Subquery(_merged_closing().order_by("merged_at").values("merged_at")[:1])
    delay = first - F("item__issue__created_at")
    # Days to three decimals, as the export writes time_to_fix: a delay the export rounds
    # up to a bin's bound (a day less a few seconds reads 1.0) is counted in that bin.
    epoch = "EXTRACT(EPOCH FROM %(expressions)s)::numeric"
    seconds = Func(delay, template=epoch, output_field=FloatField())
    days = Round(seconds / Value(SECONDS_PER_DAY), 3, output_field=FloatField())
    whens = [When(~_known(), then=Value(None))]
    whens += [
        When(LessThan(days, Value(bound.total_seconds() / SECONDS_PER_DAY)), then=Value(position))
        for position, (bound, _label) in enumerate(TIME_TO_FIX_BINS)
        if bound is not None
    ]
    last = len(TIME_TO_FIX_BINS) - 1
    whens.append(
        When(Q(item__issue__created_at__isnull=False) & Exists(_merged_closing()), then=Value(last))
    )
    return Case(*whens, default=Value(None), output_field=IntegerField())


def fix_label(kind: str, value):
    """(sort key, label) of a value of `fixed` or `time_to_fix`."""
    if kind == "time_to_fix":
        return ((0, value), TIME_TO_FIX_BINS[value][1])
    return ((0, 0 if value == FIXED else 1), value)


def fixes_stamp(project, specs) -> tuple | None:
    """What a cached panel keyed by the project's data version must add when it counts by
    a fix SPEC: the fix links move without moving that version (they are the miner's).
    None (no query) when no spec in `specs` is one."""
    if not any(str(spec) in FIX_KINDS for spec in specs):
        return None
    issues = Issue.objects.filter(pk__in=project_items(project).values("issue_id"))
    row = issues.aggregate(
        synced=Max("fixes_synced_at"), links=Count("fix_links"), last=Max("fix_links__id")
    )
    return (str(row["synced"]), row["links"], row["last"])
