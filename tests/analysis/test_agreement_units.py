"""The unit summary behind the agreement report (analysis_agreementunit) stays equal to the
labels through every path that writes them, under concurrent writers too, and the command
that checks or rebuilds it."""

import threading
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from analysis.agreement import build_agreement_report, rebuild_units, units_out_of_sync
from annotate.codebook import services as codebook
from annotate.labeling.queue import next_item, pin_calibration
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, AnnotationLabel, Category, Item
from tests.factories import AnnotationFactory

OOM = "Crash > CUDA Error > Out of Memory"
KERNEL = "Crash > CUDA Error > Kernel Error"
HANG = "Hang"


def as_records(project, records):
    """{key: path} records as the service takes them; the required root cause defaults to
    one fixed leaf, the stage to Inference."""
    root = Category.objects.get(dimension__project=project, name="GPU Memory Insufficiency").pk
    return [
        [
            {"dimension": k, "category": v}
            for k, v in {"root_cause": root, "stage": "Inference", **r}.items()
        ]
        for r in records
    ]


def submit(project, user, records):
    item = next_item(project=project, user=user)
    submit_annotation(project=project, user=user, item=item, records=as_records(project, records))
    return item


def assert_report_matches_labels(project):
    assert units_out_of_sync(project) == 0
    fast = build_agreement_report(project=project, breakdowns=True)
    slow = build_agreement_report(project=project, breakdowns=True, portable=True)
    assert fast.rows() == slow.rows()
    assert (fast.by_batch, fast.by_version) == (slow.by_batch, slow.by_version)


def unit_rows(project):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.item_id, u.m FROM analysis_agreementunit u JOIN annotate_item i "
            "ON i.id = u.item_id WHERE i.project_id = %s ORDER BY 1",
            [project.pk],
        )
        return cursor.fetchall()


def test_units_follow_every_path_that_writes_labels(project, cast, labels):
    a, b, lead = cast["annotator_a"], cast["annotator_b"], cast["lead"]
    for _ in range(4):
        labels.item()
    project.refresh_from_db()
    first = submit(project, a, [{"symptom": OOM, "stage": "Inference"}])
    assert units_out_of_sync(project) == 0 and unit_rows(project)
    submit(project, b, [{"symptom": KERNEL, "stage": "Inference"}])
    second = submit(project, a, [{"symptom": HANG}, {"symptom": OOM, "stage": "Fine-tuning"}])
    submit(project, b, [{"symptom": HANG, "stage": "Inference"}])
    assert_report_matches_labels(project)

    # A revision before settlement (the second item's pair disagrees on records, so it
    # waits in conflict unless identical: revise the first annotator's first item instead).
    Item.objects.filter(pk=first.pk).update(state=Item.State.OPEN)
    submit_annotation(
        project=project,
        user=a,
        item=first,
        records=as_records(project, [{"symptom": KERNEL}]),
    )
    assert_report_matches_labels(project)

    # Item attributes the report filters and breaks down by.
    pin_calibration(project=project, item_ids=[second.pk], batch="pilot", actor=lead)
    Item.objects.filter(pk=first.pk).update(discussed=True)
    assert_report_matches_labels(project)
    assert build_agreement_report(project=project, exclude_calibration=True).rows() != (
        build_agreement_report(project=project).rows()
    )

    # A codebook merge moves labels from one category to another.
    source = Category.objects.get(dimension__project=project, path=KERNEL)
    target = Category.objects.get(dimension__project=project, path=OOM)
    codebook.merge_categories(project=project, actor=cast["owner"], source=source, target=target)
    assert_report_matches_labels(project)

    # An annotation's codebook version and time, bulk label SQL, deletions.
    Annotation.objects.filter(item=second).update(codebook_version=7)
    AnnotationLabel.objects.filter(item=second, record=1).delete()
    assert_report_matches_labels(project)
    Annotation.objects.filter(item=first, annotator=b).delete()
    second.delete()
    assert_report_matches_labels(project)
    # What remains: the first annotator's revision of the first item, one label per dimension.
    assert unit_rows(project) == [(first.pk, 1)] * 3


def test_rebuild_after_a_load_that_bypassed_the_triggers(project, cast, labels):
    item = labels.item()
    labels.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
    labels.annotate(item, cast["annotator_b"], [{"symptom": HANG}])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM analysis_agreementunit")
    assert units_out_of_sync(project) == 1
    with pytest.raises(CommandError, match="1 agreement unit"):
        call_command("agreement_units", "--check", "--project", project.slug)
    assert rebuild_units(project) == 1
    call_command("agreement_units", "--check")
    assert unit_rows(project) == [(item.pk, 2)]
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("agreement_units", "--rebuild", "--project", "nope")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_one_item_leave_its_units_complete(project, cast, labels):
    """Two transactions write labels of one unit at once without taking the item's row lock
    themselves (as a bulk script might): the second's upsert of the unit waits for the
    first's to commit and adds to it, so the unit ends with both labels."""
    item = labels.item()
    dimension = project.dimensions.get(key="symptom")
    category = Category.objects.get(dimension=dimension, path=OOM)
    annotations = [
        AnnotationFactory(item=item, annotator=cast[name])
        for name in ("annotator_a", "annotator_b")
    ]
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"],
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "dbname": settings["NAME"],
    }
    insert = (
        "INSERT INTO annotate_annotationlabel (annotation_id, item_id, annotator_id, record, "
        "dimension_id, category_id, evidence) VALUES (%s, %s, %s, 0, %s, %s, '')"
    )
    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        second_pid = second.info.backend_pid
        first.execute(insert, [annotations[0].pk, item.pk, cast["annotator_a"].pk,
                               dimension.pk, category.pk])  # fmt: skip
        done = threading.Event()

        def write_second():
            second.execute(insert, [annotations[1].pk, item.pk, cast["annotator_b"].pk,
                                    dimension.pk, category.pk])  # fmt: skip
            second.commit()
            done.set()

        writer = threading.Thread(target=write_second)
        writer.start()
        with psycopg.connect(**params, autocommit=True) as watcher:
            for _ in range(200):
                waiting = watcher.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [second_pid]
                ).fetchone()
                if waiting and waiting[0] == "Lock":
                    break
                time.sleep(0.05)
        assert waiting == ("Lock",), "the second writer should wait for the first's unit"
        assert not done.is_set()
        first.commit()
        writer.join(timeout=30)
        assert done.is_set()
    assert unit_rows(project) == [(item.pk, 2)]
    assert units_out_of_sync(project) == 0


def test_rebuild_changes_only_the_units_that_differ(project, cast, labels):
    """A rebuild on a full table deletes and inserts only what differs (issue #16: deleting
    and re-inserting every unit stalled on a full table), and counts each change once."""
    items = [labels.item() for _ in range(3)]
    for item in items:
        labels.annotate(item, cast["annotator_a"], [{"symptom": OOM}])
        labels.annotate(item, cast["annotator_b"], [{"symptom": HANG}])
    assert rebuild_units(project) == 0  # already right: nothing written
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM analysis_agreementunit ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("UPDATE analysis_agreementunit SET m = 9 WHERE item_id = %s", [items[0].pk])
        cursor.execute("DELETE FROM analysis_agreementunit WHERE item_id = %s", [items[1].pk])
        cursor.execute(  # a unit of a key the labels do not have
            "INSERT INTO analysis_agreementunit (dimension_id, item_id, record, m, lo, hi, "
            "calibration, discussed, batch, version, at) SELECT dimension_id, item_id, 7, m, lo, "
            "hi, calibration, discussed, batch, version, at FROM analysis_agreementunit "
            "WHERE item_id = %s",
            [items[2].pk],
        )
    assert units_out_of_sync(project) == 3
    assert rebuild_units(project) == 3
    assert units_out_of_sync(project) == 0
    with connection.cursor() as cursor:  # the unit nobody damaged kept its row
        cursor.execute("SELECT id FROM analysis_agreementunit WHERE item_id = %s", [items[2].pk])
        assert [row[0] for row in cursor.fetchall()] == [ids[2]]
    call_command("agreement_units", "--rebuild", "--project", project.slug)
