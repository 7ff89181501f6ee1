"""Time per item (issue #15): the active seconds a visit sends, clamped and summed over
visits, and each annotator's pace on the project page (done / assigned, the median per
item by percentile_cont, the trend per day), seen whole by leads and owners only."""

import statistics
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from annotate.access import pseudonym
from annotate.labeling.pace import (
    MAX_TOTAL_SECONDS,
    MAX_VISIT_SECONDS,
    TREND_DAYS,
    annotator_pace,
    clamp_active_seconds,
    sparkline,
)
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, Assignment, Membership
from tests.builders import record
from tests.factories import AnnotationFactory, AssignmentFactory, ItemFactory

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        (True, None),
        (float("inf"), None),
        (-30, 0),
        ("12.6", 13),
        (95, 95),
        (MAX_VISIT_SECONDS + 1, MAX_VISIT_SECONDS),
        (10**12, MAX_VISIT_SECONDS),
    ],
)
def test_a_visits_seconds_are_clamped_to_zero_to_four_hours(sent, kept):
    assert clamp_active_seconds(sent) == kept


def _records():
    return [[{"dimension": k, "category": v} for k, v in record().items()]]


def test_each_visit_adds_its_clamped_seconds_to_the_annotation(project, cast):
    item = ItemFactory(project=project)
    user = cast["annotator_a"]
    AssignmentFactory(item=item, annotator=user)
    submit_annotation(project=project, user=user, item=item, records=_records(), active_seconds=80)
    submit_annotation(
        project=project, user=user, item=item, records=_records(), active_seconds=10**9
    )
    assert Annotation.objects.get().active_seconds == 80 + MAX_VISIT_SECONDS
    # A visit that measured nothing leaves the time as it was.
    submit_annotation(project=project, user=user, item=item, records=_records())
    assert Annotation.objects.get().active_seconds == 80 + MAX_VISIT_SECONDS


def test_resubmissions_cannot_grow_an_annotations_time_without_bound(project, cast):
    item = ItemFactory(project=project)
    user = cast["annotator_a"]
    AssignmentFactory(item=item, annotator=user)
    submit_annotation(project=project, user=user, item=item, records=_records(), active_seconds=80)
    Annotation.objects.update(active_seconds=MAX_TOTAL_SECONDS - 60)
    submit_annotation(
        project=project, user=user, item=item, records=_records(), active_seconds=10**9
    )
    assert Annotation.objects.get().active_seconds == MAX_TOTAL_SECONDS


def test_the_labeling_form_sends_the_seconds_and_the_server_clamps_them(project, cast, client_for):
    from annotate.models import Category

    item = ItemFactory(project=project)
    client = client_for(cast["annotator_a"])
    client.get(reverse("label-next", args=[project.slug]))
    paths = record()
    form = {"record_count": "1", "active_seconds": "-12"}
    for key, path in paths.items():
        form[f"r0-{key}"] = str(Category.objects.get(dimension__key=key, path=path).pk)
    response = client.post(reverse("label-item", args=[project.slug, item.pk]), form)
    assert response.status_code == 302
    assert Annotation.objects.get().active_seconds == 0


@pytest.fixture
def timed(project, cast):
    """Annotations with known times: A over three days, B today; assignments beside."""
    now = timezone.now()
    times = {
        "annotator_a": [(0, 30), (0, 45), (0, 600), (1, 61), (1, 62), (3, 7), (3, 9), (3, 100)],
        "annotator_b": [(0, 200), (0, 20), (0, None)],
    }
    for name, rows in times.items():
        for days_ago, seconds in rows:
            item = ItemFactory(project=project)
            AssignmentFactory(item=item, annotator=cast[name], state=Assignment.State.SUBMITTED)
            annotation = AnnotationFactory(item=item, annotator=cast[name], active_seconds=seconds)
            Annotation.objects.filter(pk=annotation.pk).update(
                created_at=now - timedelta(days=days_ago)
            )
    # One item held, not yet done, and one skipped (not counted as assigned).
    AssignmentFactory(item=ItemFactory(project=project), annotator=cast["annotator_a"])
    AssignmentFactory(
        item=ItemFactory(project=project),
        annotator=cast["annotator_a"],
        state=Assignment.State.SKIPPED,
    )
    return times


def _membership(project, user):
    return Membership.objects.get(project=project, user=user)


def test_the_median_per_item_and_per_day_match_pythons(project, cast, timed):
    rows = annotator_pace(project=project, membership=_membership(project, cast["lead"]))
    by_name = {row["name"]: row for row in rows}
    a, b = by_name["annotator_a"], by_name["annotator_b"]
    a_seconds = [s for _, s in timed["annotator_a"]]
    assert a["median"] == statistics.median(a_seconds)
    assert b["median"] == statistics.median([200, 20])  # an untimed annotation is left out
    assert (a["done"], a["assigned"]) == (8, 9)
    assert (b["done"], b["assigned"]) == (3, 3)
    assert len(a["trend"]) == TREND_DAYS and a["days"][-1] == timezone.localdate()
    for days_ago in (0, 1, 3):
        day_seconds = [s for ago, s in timed["annotator_a"] if ago == days_ago]
        assert a["trend"][-1 - days_ago] == statistics.median(day_seconds)
    assert a["trend"][-3] is None  # two days ago: nothing timed
    assert "Median active time per item, by day" in a["trend_text"]


def test_an_annotator_sees_only_their_own_row(project, cast, timed, client_for):
    rows = annotator_pace(project=project, membership=_membership(project, cast["annotator_b"]))
    assert [row["name"] for row in rows] == ["You"]
    page = client_for(cast["annotator_b"]).get(reverse("project-detail", args=[project.slug]))
    html = page.content.decode()
    assert "Your pace" in html and "annotator_a" not in html
    assert "3 / 3" in html


def test_leads_see_every_annotator_by_pseudonym_while_names_are_hidden(
    project, cast, timed, client_for
):
    project.hide_annotator_names = True
    project.save()
    page = client_for(cast["lead"]).get(reverse("project-detail", args=[project.slug]))
    html = page.content.decode()
    assert pseudonym(project.pk, cast["annotator_a"].pk) in html
    assert "annotator_a" not in html
    assert "8 / 9" in html
    assert 'role="img" aria-label="Median active time per item, by day:' in html
    owner = client_for(cast["owner"]).get(reverse("project-detail", args=[project.slug]))
    assert "annotator_a" in owner.content.decode()


def test_the_sparkline_breaks_where_a_day_has_no_time():
    line = sparkline([10, 20, None, 40, None, None, 5, 5], width=70, height=20)
    assert len(line["lines"]) == 2 and len(line["dots"]) == 5
    top = min(y for _, y in line["dots"])
    assert top == 2.0  # the largest value touches the top padding


def test_the_laptops_python_medians_equal_percentile_cont(project, cast, timed, monkeypatch):
    """`make run` runs on SQLite, which has no percentile_cont: the medians it takes in
    Python are the ones PostgreSQL gives."""
    from types import SimpleNamespace

    from annotate.labeling import pace

    lead = _membership(project, cast["lead"])
    in_sql = annotator_pace(project=project, membership=lead)
    monkeypatch.setattr(pace, "connection", SimpleNamespace(vendor="sqlite"))
    in_python = annotator_pace(project=project, membership=lead)
    assert [(r["median"], r["trend"]) for r in in_python] == [
        (r["median"], r["trend"]) for r in in_sql
    ]


def test_the_pace_is_kept_per_data_version_and_the_items_held_now_are_read_live(
    project, cast, timed, django_assert_max_num_queries
):
    """The project page computed five aggregates over every annotation of the project on
    each view (0.31 s warm at 100,000 items, bench_pages); the submitted part is now kept
    per data version. An item claimed since (no data change) still counts as assigned at
    once, and a submission moves the version, so the done count follows."""
    lead = _membership(project, cast["lead"])
    annotator_pace(project=project, membership=lead)  # computed and kept
    with django_assert_max_num_queries(5):  # version, held items, members, users
        warm = {row["name"]: row for row in annotator_pace(project=project, membership=lead)}
    assert (warm["annotator_a"]["done"], warm["annotator_a"]["assigned"]) == (8, 9)
    item = ItemFactory(project=project)
    AssignmentFactory(item=item, annotator=cast["annotator_b"])  # claimed just now
    rows = {row["name"]: row for row in annotator_pace(project=project, membership=lead)}
    assert (rows["annotator_b"]["done"], rows["annotator_b"]["assigned"]) == (3, 4)
    submit_annotation(
        project=project, user=cast["annotator_b"], item=item, records=_records(), active_seconds=30
    )
    rows = {row["name"]: row for row in annotator_pace(project=project, membership=lead)}
    assert (rows["annotator_b"]["done"], rows["annotator_b"]["assigned"]) == (4, 4)
    assert rows["annotator_b"]["median"] == statistics.median([200, 20, 30])


def test_an_abandoned_assignment_past_its_expiry_is_not_counted_as_assigned(project, cast):
    """The queue no longer holds an item for its annotator once the assignment expired (it
    goes to someone else at the next sweep): the pace must not count it as theirs."""
    lead = _membership(project, cast["lead"])
    AssignmentFactory(
        item=ItemFactory(project=project),
        annotator=cast["annotator_b"],
        expires_at=timezone.now() - timedelta(minutes=5),
    )
    AssignmentFactory(
        item=ItemFactory(project=project),
        annotator=cast["annotator_b"],
        expires_at=timezone.now() + timedelta(minutes=55),
    )
    rows = {row["name"]: row for row in annotator_pace(project=project, membership=lead)}
    assert (rows["annotator_b"]["done"], rows["annotator_b"]["assigned"]) == (0, 1)
