"""The labeling queue: order, overlap, calibration, skips, expiry, query counts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from annotate.labeling import expiry, queue
from annotate.labeling.errors import ItemClosedError, LabelingError
from annotate.labeling.expiry import expire_assignments
from annotate.labeling.queue import next_item, pin_calibration, skip_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, Assignment, AuditEvent, Item, Role
from annotate.projects.services import add_member
from tests.factories import AssignmentFactory, ItemFactory, UserFactory

OOM = "Crash > CUDA Error > Out of Memory"


def record(symptom=OOM, root_cause="GPU Memory Insufficiency", stage="Inference"):
    return [
        {"dimension": "symptom", "category": symptom},
        {"dimension": "root_cause", "category": root_cause},
        {"dimension": "stage", "category": stage},
    ]


@pytest.fixture(autouse=True, params=["one statement", "orm"])
def claim_path(request, monkeypatch):
    """Every queue test on both claim paths: PostgreSQL's one statement, and the portable
    ORM path SQLite takes."""
    monkeypatch.setattr(queue, "CLAIM_IN_ONE_STATEMENT", request.param == "one statement")
    return request.param


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def root_causes(project):
    paths = project.dimensions.get(key="root_cause").categories.values_list("path", flat=True)
    return {path.split(" > ")[-1]: path for path in paths}


def submit(project, user, item, **kwargs):
    kwargs.setdefault("records", [record(root_cause=kwargs.pop("root_cause", None))])
    return submit_annotation(project=project, user=user, item=item, **kwargs)


@pytest.fixture
def rc(root_causes):
    return root_causes["GPU Memory Insufficiency"]


def test_next_gives_items_in_sample_order_and_the_held_one_again(project, items, cast):
    first = next_item(project=project, user=cast["annotator_a"])
    assert first.pk == items[0].pk
    again = next_item(project=project, user=cast["annotator_a"])
    assert again.pk == first.pk
    assert Assignment.objects.filter(annotator=cast["annotator_a"]).count() == 1
    first.refresh_from_db()
    assert first.assigned_count == 1


def test_second_annotator_gets_the_same_item_third_does_not(project, items, cast, rc):
    a = next_item(project=project, user=cast["annotator_a"])
    b = next_item(project=project, user=cast["annotator_b"])
    assert a.pk == b.pk
    third = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    c = next_item(project=project, user=third)
    assert c.pk == items[1].pk


def test_items_with_one_annotation_come_before_the_sample_order(project, items, cast, rc):
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    # Item 4 has one annotation and a free slot (its second annotator skipped it).
    pin_calibration(project=project, item_ids=[], batch="none")
    AssignmentFactory(item=items[4], annotator=cast["lead"], state="submitted")
    Item.objects.filter(pk=items[4].pk).update(assigned_count=1, submitted_count=1)
    got = next_item(project=project, user=c)
    assert got.pk == items[4].pk


def test_calibration_items_come_first_for_everyone_beyond_overlap(project, items, cast, rc):
    pin_calibration(project=project, item_ids=[items[3].pk], batch="week 1")
    users = [cast["annotator_a"], cast["annotator_b"], cast["lead"], cast["owner"]]
    for user in users:
        item = next_item(project=project, user=user)
        assert item.pk == items[3].pk
        submit(project, user, item, root_cause=rc)
    items[3].refresh_from_db()
    assert items[3].submitted_count == 4
    # Afterwards the regular queue resumes.
    assert next_item(project=project, user=cast["annotator_a"]).pk == items[0].pk


def test_nothing_left_returns_none(project, cast, rc):
    item = ItemFactory(project=project)
    for user in (cast["annotator_a"], cast["annotator_b"]):
        assert next_item(project=project, user=user).pk == item.pk
    outsider_annotator = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    assert next_item(project=project, user=outsider_annotator) is None


def test_settled_items_leave_the_queue(project, cast, rc):
    item = ItemFactory(project=project)
    for user in (cast["annotator_a"], cast["annotator_b"]):
        next_item(project=project, user=user)
        submit(project, user, item, root_cause=rc)
    item.refresh_from_db()
    assert item.state == Item.State.SETTLED
    assert next_item(project=project, user=cast["lead"]) is None


def test_skip_gives_the_item_to_someone_else_and_never_back(project, cast, rc):
    first, second = ItemFactory(project=project), ItemFactory(project=project)
    a = cast["annotator_a"]
    assert next_item(project=project, user=a).pk == first.pk
    skip_item(project=project, user=a, item=first, reason="not English")
    first.refresh_from_db()
    assert first.assigned_count == 0
    assert next_item(project=project, user=a).pk == second.pk
    assert Assignment.objects.get(item=first, annotator=a).skip_reason == "not English"
    assert AuditEvent.objects.filter(kind="item_skipped", item=first).exists()
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    next_item(project=project, user=cast["annotator_b"])
    assert next_item(project=project, user=c).pk == first.pk


def test_skip_needs_a_reason(project, items, cast):
    item = next_item(project=project, user=cast["annotator_a"])
    with pytest.raises(LabelingError, match="reason"):
        skip_item(project=project, user=cast["annotator_a"], item=item, reason=" ")


def test_abandoned_assignments_expire_and_free_their_slot(project, cast, rc, monkeypatch):
    item = ItemFactory(project=project)
    a, b = cast["annotator_a"], cast["annotator_b"]
    next_item(project=project, user=a)
    next_item(project=project, user=b)
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    assert next_item(project=project, user=c) is None
    Assignment.objects.filter(annotator=a).update(expires_at=timezone.now() - timedelta(minutes=1))
    # The sweep runs at most every SWEEP_SECONDS per project (per process, and shared).
    cache.clear()
    monkeypatch.setattr(expiry, "_swept_at", {})
    assert next_item(project=project, user=c).pk == item.pk
    assert Assignment.objects.get(annotator=a).state == Assignment.State.EXPIRED
    item.refresh_from_db()
    assert item.assigned_count == 2
    # The latecomer cannot take the slot back now that it is full again.
    with pytest.raises(ItemClosedError, match="expired"):
        submit(project, a, item, root_cause=rc)


def test_expired_assignment_can_still_submit_while_there_is_room(project, cast, rc):
    item = ItemFactory(project=project)
    a = cast["annotator_a"]
    next_item(project=project, user=a)
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.filter(annotator=a).update(expires_at=past)
    assert expire_assignments(project=project) == 1
    submit(project, a, item, root_cause=rc)
    item.refresh_from_db()
    assert (item.assigned_count, item.submitted_count) == (1, 1)


def test_expiry_command_sweeps_every_project(project, cast):
    from django.core.management import call_command

    ItemFactory(project=project)
    next_item(project=project, user=cast["annotator_a"])
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.update(expires_at=past)
    call_command("expire_assignments")
    assert Assignment.objects.get().state == Assignment.State.EXPIRED
    assert Item.objects.get().assigned_count == 0


def test_assignment_expiry_follows_the_project_timeout(project, items, cast):
    project.assignment_timeout_minutes = 15
    project.save()
    before = timezone.now()
    item = next_item(project=project, user=cast["annotator_a"])
    expected = before + timedelta(minutes=15)
    assert abs((item.assignment.expires_at - expected).total_seconds()) < 5


# Queries per call once the per-process caches are warm (codebook, sweep throttle; the
# calibration ids live in Redis). The test's transaction turns each service's atomic block
# into a SAVEPOINT and its RELEASE, counted here; in production they are BEGIN and COMMIT.
# next on PostgreSQL: savepoint, membership lock, the claim (the held assignment, or the
# window, lock, count and assignment, in one statement), the item with its issue, release.
# The portable path looks for a held assignment, reads the window, locks the candidate,
# reads its issue, inserts the assignment and updates the count apart: four more.
NEXT_QUERIES = {"one statement": 5, "orm": 9}
# submit: savepoint, item lock, assignment (with the annotation's id), annotation insert,
# item update, assignment update, labels insert, audit insert, release.
SUBMIT_QUERIES = 9
# The submission that brings an item to `overlap` also lets adjudication settle it
# (adjudication.settle_if_complete): the annotations and their labels, the final label and
# its records, open conflicts resolved, the item's state, the audit event. The codebook
# comes from the cache, no savepoint, nothing to delete on an item never settled.
SETTLE_QUERIES = 7
# Through the API (force-authenticated: no token lookup): the membership, and for next
# the item's comments; submit looks the item up under its lock, with access's rule, in the
# service (nothing more); a reply that shows a final label reads its records.
API_NEXT_QUERIES = {path: 1 + n + 1 for path, n in NEXT_QUERIES.items()}
API_SUBMIT_QUERIES = 1 + SUBMIT_QUERIES


def _label_one_item_by_two(project, cast, django_assert_num_queries, rc, path):
    """annotator_a then annotator_b take the same item and agree, each call counted."""
    records = [record(root_cause=rc), record(root_cause=rc)]
    for user, settling in ((cast["annotator_a"], 0), (cast["annotator_b"], SETTLE_QUERIES)):
        with django_assert_num_queries(NEXT_QUERIES[path]):
            item = next_item(project=project, user=user)
        with django_assert_num_queries(SUBMIT_QUERIES + settling):
            submit(project, user, item, records=records)
    item.refresh_from_db()
    assert item.state == Item.State.SETTLED


def _warm(project, cast, rc):
    """Fill the per-process caches the way a running server has them (the owner and the
    lead label the first item, so that the next one starts fresh)."""
    for user in (cast["owner"], cast["lead"]):
        item = next_item(project=project, user=user)
        submit(project, user, item, root_cause=rc)


@pytest.mark.parametrize("size", [5, 50])
def test_next_and_submit_use_a_constant_number_of_queries(
    project, cast, rc, size, django_assert_num_queries, claim_path
):
    ItemFactory.create_batch(size, project=project)
    _warm(project, cast, rc)
    _label_one_item_by_two(project, cast, django_assert_num_queries, rc, claim_path)


@pytest.mark.parametrize("size", [5, 50])
def test_the_api_adds_only_access_and_the_reply_to_next_and_submit(
    project, cast, rc, size, api_for, django_assert_num_queries, claim_path
):
    ItemFactory.create_batch(size, project=project)
    _warm(project, cast, rc)
    body = {"records": [{"labels": record(root_cause=rc)}], "confidence": 3}
    next_url = reverse("api-queue-next", args=[project.slug])
    for who, extra in (("annotator_a", 0), ("annotator_b", SETTLE_QUERIES + 1)):
        api = api_for(cast[who])
        with django_assert_num_queries(API_NEXT_QUERIES[claim_path]):
            item_id = api.post(next_url).json()["id"]
        url = reverse("api-annotation-submit", args=[project.slug, item_id])
        with django_assert_num_queries(API_SUBMIT_QUERIES + extra):
            response = api.post(url, body, format="json")
        assert response.status_code == 200
    assert response.json()["settled"] is True


def test_the_codebook_is_read_once_per_version_and_a_change_is_seen_at_once(
    project, cast, rc, django_assert_num_queries
):
    from annotate.codebook import services as codebook

    ItemFactory.create_batch(3, project=project)
    _warm(project, cast, rc)
    a = cast["annotator_a"]
    hang = project.dimensions.get(key="symptom").categories.get(path="Hang")
    codebook.rename_category(project=project, actor=cast["owner"], category=hang, name="Stall")
    item = next_item(project=project, user=a)
    # The new version's codebook: dimensions and categories, read once.
    with django_assert_num_queries(SUBMIT_QUERIES + 2):
        submit(project, a, item, records=[record(symptom="Stall", root_cause=rc)])
    with pytest.raises(LabelingError, match="unknown category 'Hang'"):
        submit(project, a, item, records=[record(symptom="Hang", root_cause=rc)])
    # A replacement reads the annotation and updates it instead of counting a new one.
    with django_assert_num_queries(SUBMIT_QUERIES):
        submit(project, a, item, records=[record(symptom="Stall", root_cause=rc)])
    assert (
        Annotation.objects.get(item=item, annotator=a)
        .labels.filter(category__path="Stall")
        .exists()
    )


def test_a_pinned_calibration_batch_keeps_next_as_cheap(
    project, cast, rc, django_assert_num_queries, claim_path
):
    """Issue #16: with a calibration batch pinned, PostgreSQL's `next` used to fall back to
    the ORM path (9 queries instead of 5); the one statement now picks calibration items
    first itself, and the regular queue after them, at the same count."""
    # The ORM path: one read fewer when it takes a calibration item, one more when it
    # looks for one in vain.
    counts = {"one statement": (5, 5), "orm": (8, 10)}[claim_path]
    items = ItemFactory.create_batch(6, project=project)
    pin_calibration(project=project, item_ids=[items[4].pk], batch="week 1")
    _warm(project, cast, rc)  # owner and lead take the calibration item and submit it
    user = cast["annotator_a"]
    with django_assert_num_queries(counts[0]):
        first = next_item(project=project, user=user)
    assert first.pk == items[4].pk and first.assignment.pk
    submit(project, user, first, root_cause=rc)
    with django_assert_num_queries(counts[1]):
        second = next_item(project=project, user=user)
    assert second.pk == items[0].pk
    first.refresh_from_db()
    assert first.assigned_count == 3 and first.submitted_count == 3


def _rows_read(plan, table: str) -> int:
    """Rows the nodes of an EXPLAIN ANALYZE plan read from `table`, over all their loops."""
    rows = plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
    own = rows if plan.get("Relation Name") == table else 0
    return own + sum(_rows_read(child, table) for child in plan.get("Plans", []))


@pytest.mark.parametrize("claim_path", ["one statement"], indirect=True)
def test_a_claim_probes_the_callers_assignments_instead_of_reading_them_all(
    project, cast, claim_path
):
    """Issue #15: the claim excluded the caller's items with NOT IN over every assignment
    they ever had (60,000 at 100,000 items: 20 ms a claim, 140 ms from a cold cache); it
    probes the (item, annotator) key of the candidates it looks at instead."""
    from django.db import connection, transaction

    user = cast["annotator_a"]
    done = ItemFactory.create_batch(400, project=project, state=Item.State.SETTLED)
    ItemFactory.create_batch(60, project=project)
    Assignment.objects.bulk_create(
        Assignment(item=item, annotator=user, state=Assignment.State.SUBMITTED) for item in done
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotate_assignment")
        cursor.execute("ANALYZE annotate_item")
    now = timezone.now()
    params = {"project": project.pk, "overlap": project.overlap, "user": user.pk,
              "window": queue.QUEUE_WINDOW, "now": now, "expires": now,
              "calibration": [], "calibrated": False}  # fmt: skip
    with transaction.atomic():
        with connection.cursor() as cursor:
            # At 400 assignments hashing them all is cheapest, and PostgreSQL does; at 60,000
            # it probes, as here with hash and merge joins off. NOT IN cannot probe at all.
            cursor.execute("SET LOCAL enable_hashjoin = off")
            cursor.execute("SET LOCAL enable_mergejoin = off")
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {queue.CLAIM_SQL}", params)
            plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    read = _rows_read(plan[0]["Plan"], "annotate_assignment")
    assert read < 100, read  # NOT IN read all 400
