"""The distributions' fix SPECs (analysis/fix_specs.py): `fixed` and `time_to_fix`,
checked against bins computed here independently, in plain Python, from the same links."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from analysis.dashboard import access_source, cached_panel, parse_filters
from analysis.distributions import build_crosstab
from analysis.specs import Source, parse_spec
from annotate.access import get_membership
from mining.models import FixLink, Repository
from tests.builders import label_both, record
from tests.factories import IssueFactory, ItemFactory

CREATED = datetime(2024, 1, 1, tzinfo=UTC)
# Delays to the first merge (None: synced, never merged; "unsynced": links never fetched).
DELAYS = [
    timedelta(hours=3),
    timedelta(days=-2),  # merged before the issue was filed: "< 1 day"
    timedelta(days=1),  # the bin's lower bound belongs to it
    timedelta(days=6, hours=23),
    timedelta(days=7),
    timedelta(days=27),
    timedelta(days=28),
    timedelta(days=179),
    timedelta(days=180),
    timedelta(days=900),
    None,
    None,
    "unsynced",
]


def expected_bin(delay) -> str:
    """Written apart from the code under test: explicit day thresholds."""
    if delay is None or delay == "unsynced":
        return "(none)"
    days = delay.total_seconds() / 86400
    if days < 1:
        return "< 1 day"
    if days < 7:
        return "1–7 days"
    if days < 28:
        return "1–4 weeks"
    if days < 180:
        return "1–6 months"
    return "> 6 months"


def expected_fixed(delay) -> str:
    if isinstance(delay, timedelta):
        return "fixed"
    return "not fixed" if delay is None else "(none)"


@pytest.fixture
def fixed_items(project, cast):
    items = []
    for number, delay in enumerate(DELAYS, start=1):
        synced = None if delay == "unsynced" else CREATED
        issue = IssueFactory(number=number, created_at=CREATED, fixes_synced_at=synced)
        if isinstance(delay, timedelta):
            for extra, kind in ((timedelta(days=400), "closing_pr"), (delay, "closing_pr")):
                FixLink.objects.create(
                    issue=issue, kind=kind, ref=f"o/r#{number}{extra.days}", merged=True,
                    merged_at=CREATED + extra, state="MERGED",
                )  # fmt: skip
        # A merged pull request that only references the issue never counts.
        FixLink.objects.create(
            issue=issue, kind="referencing_pr", ref=f"o/r#{number}00", merged=True,
            merged_at=CREATED - timedelta(days=5), state="MERGED",
        )  # fmt: skip
        item = ItemFactory(project=project, issue=issue)
        assert label_both(item, cast, [record()], [record()]) == "settled"
        items.append(item)
    return items


def crosstab(project, rows, cols="state"):
    return build_crosstab(
        project=project, rows=parse_spec(rows), cols=parse_spec(cols), source=Source("final")
    )


def totals(table) -> dict[str, int]:
    return dict(zip(table.rows, map(sum, table.counts), strict=True))


def test_time_to_fix_bins_match_an_independent_count(project, fixed_items):
    table = crosstab(project, "time_to_fix")
    assert totals(table) == dict(Counter(expected_bin(d) for d in DELAYS))
    bins = [r for r in table.rows if r != "(none)"]
    assert bins == ["< 1 day", "1–7 days", "1–4 weeks", "1–6 months", "> 6 months"]


def test_fixed_matches_an_independent_count(project, fixed_items):
    table = crosstab(project, "fixed", "time_to_fix")
    assert totals(table) == dict(Counter(expected_fixed(d) for d in DELAYS))
    assert table.rows == ["fixed", "not fixed", "(none)"]


def test_an_unreadable_repository_counts_as_unknown(project, fixed_items):
    Repository.objects.update(private=None)
    assert totals(crosstab(project, "fixed")) == {"(none)": len(DELAYS)}


def test_the_api_serves_the_fix_specs(project, cast, fixed_items, api_for):
    response = api_for(cast["lead"]).get(
        f"/api/projects/{project.slug}/distribution/", {"rows": "time_to_fix", "cols": "fixed"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["cols"] == ["fixed", "not fixed", "(none)"]
    assert sum(map(sum, data["counts"])) == len(DELAYS)


def test_a_cached_panel_counts_again_after_a_fix_crawl(project, cast, fixed_items, settings):
    """The fix links move without the project's data version: the panel's key follows them."""
    filters = parse_filters({"view": "explore", "rows": "fixed", "cols": "state"}, project)
    membership = get_membership(cast["lead"], project.slug)
    access = access_source(project=project, membership=membership, source=filters.source)

    def counts():
        panel, _parts = cached_panel(project=project, filters=filters, access=access)
        return totals(panel.table)

    assert counts()["(none)"] == 1
    unsynced = fixed_items[-1].issue
    unsynced.fixes_synced_at = CREATED
    unsynced.save(update_fields=["fixes_synced_at"])
    FixLink.objects.create(
        issue=unsynced, kind="closing_pr", ref="o/r#1", merged=True,
        merged_at=CREATED + timedelta(days=2), state="MERGED",
    )  # fmt: skip
    assert "(none)" not in counts() and counts()["fixed"] == 11


def test_a_delay_the_export_rounds_up_to_a_bound_is_binned_as_the_export_reads(project, cast):
    """The export's time_to_fix has three decimals: a delay of a day less 10 seconds is
    1.0 there, and an analyst binning the export puts it in "1–7 days"; the distribution
    must count it in the same bin (red-team review)."""
    issue = IssueFactory(number=1, created_at=CREATED, fixes_synced_at=CREATED)
    FixLink.objects.create(
        issue=issue, kind="closing_pr", ref="o/r#1", merged=True, state="MERGED",
        merged_at=CREATED + timedelta(days=1) - timedelta(seconds=10),
    )  # fmt: skip
    item = ItemFactory(project=project, issue=issue)
    assert label_both(item, cast, [record()], [record()]) == "settled"

    assert totals(crosstab(project, "time_to_fix")) == {"1–7 days": 1}
