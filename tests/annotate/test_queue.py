"""The labeling queue: order, overlap, calibration, skips, expiry, query counts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from annotate import labeling
from annotate.models import Assignment, AuditEvent, Item, Role
from annotate.services import add_member
from tests.factories import ItemFactory, UserFactory

OOM = "Crash > CUDA Error > Out of Memory"


def record(symptom=OOM, root_cause="GPU Memory Insufficiency", stage="Inference"):
    return [
        {"dimension": "symptom", "category": symptom},
        {"dimension": "root_cause", "category": root_cause},
        {"dimension": "stage", "category": stage},
    ]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    # The cast's passwords are hashed per test; the default hasher costs ~0.5 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    return labeling.submit_annotation(project=project, user=user, item=item, **kwargs)


@pytest.fixture
def rc(root_causes):
    return root_causes["GPU Memory Insufficiency"]


def test_next_gives_items_in_sample_order_and_the_held_one_again(project, items, cast):
    first = labeling.next_item(project=project, user=cast["annotator_a"])
    assert first.pk == items[0].pk
    again = labeling.next_item(project=project, user=cast["annotator_a"])
    assert again.pk == first.pk
    assert Assignment.objects.filter(annotator=cast["annotator_a"]).count() == 1
    first.refresh_from_db()
    assert first.assigned_count == 1


def test_second_annotator_gets_the_same_item_third_does_not(project, items, cast, rc):
    a = labeling.next_item(project=project, user=cast["annotator_a"])
    b = labeling.next_item(project=project, user=cast["annotator_b"])
    assert a.pk == b.pk
    third = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    c = labeling.next_item(project=project, user=third)
    assert c.pk == items[1].pk


def test_items_with_one_annotation_come_before_the_sample_order(project, items, cast, rc):
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    # Item 4 has one annotation and a free slot (its second annotator skipped it).
    labeling.pin_calibration(project=project, item_ids=[], batch="none")
    Assignment.objects.create(item=items[4], annotator=cast["lead"], state="submitted")
    Item.objects.filter(pk=items[4].pk).update(assigned_count=1, submitted_count=1)
    got = labeling.next_item(project=project, user=c)
    assert got.pk == items[4].pk


def test_calibration_items_come_first_for_everyone_beyond_overlap(project, items, cast, rc):
    labeling.pin_calibration(project=project, item_ids=[items[3].pk], batch="week 1")
    users = [cast["annotator_a"], cast["annotator_b"], cast["lead"], cast["owner"]]
    for user in users:
        item = labeling.next_item(project=project, user=user)
        assert item.pk == items[3].pk
        submit(project, user, item, root_cause=rc)
    items[3].refresh_from_db()
    assert items[3].submitted_count == 4
    # Afterwards the regular queue resumes.
    assert labeling.next_item(project=project, user=cast["annotator_a"]).pk == items[0].pk


def test_nothing_left_returns_none(project, cast, rc):
    item = ItemFactory(project=project)
    for user in (cast["annotator_a"], cast["annotator_b"]):
        assert labeling.next_item(project=project, user=user).pk == item.pk
    outsider_annotator = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    assert labeling.next_item(project=project, user=outsider_annotator) is None


def test_settled_items_leave_the_queue(project, cast, rc):
    item = ItemFactory(project=project)
    for user in (cast["annotator_a"], cast["annotator_b"]):
        labeling.next_item(project=project, user=user)
        submit(project, user, item, root_cause=rc)
    item.refresh_from_db()
    assert item.state == Item.State.SETTLED
    assert labeling.next_item(project=project, user=cast["lead"]) is None


def test_skip_gives_the_item_to_someone_else_and_never_back(project, cast, rc):
    first, second = ItemFactory(project=project), ItemFactory(project=project)
    a = cast["annotator_a"]
    assert labeling.next_item(project=project, user=a).pk == first.pk
    labeling.skip_item(project=project, user=a, item=first, reason="not English")
    first.refresh_from_db()
    assert first.assigned_count == 0
    assert labeling.next_item(project=project, user=a).pk == second.pk
    assert Assignment.objects.get(item=first, annotator=a).skip_reason == "not English"
    assert AuditEvent.objects.filter(kind="item_skipped", item=first).exists()
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    labeling.next_item(project=project, user=cast["annotator_b"])
    assert labeling.next_item(project=project, user=c).pk == first.pk


def test_skip_needs_a_reason(project, items, cast):
    item = labeling.next_item(project=project, user=cast["annotator_a"])
    with pytest.raises(labeling.LabelingError, match="reason"):
        labeling.skip_item(project=project, user=cast["annotator_a"], item=item, reason=" ")


def test_abandoned_assignments_expire_and_free_their_slot(project, cast, rc):
    item = ItemFactory(project=project)
    a, b = cast["annotator_a"], cast["annotator_b"]
    labeling.next_item(project=project, user=a)
    labeling.next_item(project=project, user=b)
    c = UserFactory(username="annotator_c")
    add_member(project=project, username="annotator_c", role=Role.ANNOTATOR)
    assert labeling.next_item(project=project, user=c) is None
    Assignment.objects.filter(annotator=a).update(expires_at=timezone.now() - timedelta(minutes=1))
    cache.clear()  # the sweep runs at most every SWEEP_SECONDS per project
    assert labeling.next_item(project=project, user=c).pk == item.pk
    assert Assignment.objects.get(annotator=a).state == Assignment.State.EXPIRED
    item.refresh_from_db()
    assert item.assigned_count == 2
    # The latecomer cannot take the slot back now that it is full again.
    with pytest.raises(labeling.ItemClosedError, match="expired"):
        submit(project, a, item, root_cause=rc)


def test_expired_assignment_can_still_submit_while_there_is_room(project, cast, rc):
    item = ItemFactory(project=project)
    a = cast["annotator_a"]
    labeling.next_item(project=project, user=a)
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.filter(annotator=a).update(expires_at=past)
    assert labeling.expire_assignments(project=project) == 1
    submit(project, a, item, root_cause=rc)
    item.refresh_from_db()
    assert (item.assigned_count, item.submitted_count) == (1, 1)


def test_expiry_command_sweeps_every_project(project, cast):
    from django.core.management import call_command

    ItemFactory(project=project)
    labeling.next_item(project=project, user=cast["annotator_a"])
    past = timezone.now() - timedelta(minutes=1)
    Assignment.objects.update(expires_at=past)
    call_command("expire_assignments")
    assert Assignment.objects.get().state == Assignment.State.EXPIRED
    assert Item.objects.get().assigned_count == 0


def test_assignment_expiry_follows_the_project_timeout(project, items, cast):
    project.assignment_timeout_minutes = 15
    project.save()
    before = timezone.now()
    item = labeling.next_item(project=project, user=cast["annotator_a"])
    expected = before + timedelta(minutes=15)
    assert abs((item.assignment.expires_at - expected).total_seconds()) < 5


def _next_and_submit_queries(project, cast, django_assert_num_queries, expected):
    # Warm the per-project caches (calibration ids, sweep throttle) first.
    labeling.next_item(project=project, user=cast["owner"])
    with django_assert_num_queries(expected["next"]):
        item = labeling.next_item(project=project, user=cast["annotator_a"])
    with django_assert_num_queries(expected["submit"]):
        submit(
            project,
            cast["annotator_a"],
            item,
            records=[record(root_cause=expected["rc"]), record(root_cause=expected["rc"])],
        )


@pytest.mark.parametrize("size", [5, 50])
def test_next_and_submit_use_a_constant_number_of_queries(
    project, cast, rc, size, django_assert_num_queries
):
    ItemFactory.create_batch(size, project=project)
    # next: savepoint, sweep-free membership lock, held lookup, calibration-free candidate,
    # assignment insert, count update, release. submit: see labeling.submit_annotation.
    _next_and_submit_queries(
        project, cast, django_assert_num_queries, {"next": 7, "submit": 16, "rc": rc}
    )
