"""The importer writes in batches: every statement covers at most a batch of issues, so the
longest statement does not grow with the import (one bulk_update over every item made
PostgreSQL's JIT spend minutes on 10,000 annotator labels), and the results are the same
as one pass: shared links across batches and files, repeat imports, counts on items."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotate.models import Annotation, AnnotationLabel, Assignment, FinalRecordLabel, Item
from dataset import importing
from dataset.importing import Source, import_dataset

BATCH = 5


def records(count, start=1):
    return [
        {
            "link": f"https://github.com/QwenLM/Qwen/issues/{n}",
            "status": "closed",
            "SYMPTOM": "Crash - CUDA Error - Out of Memory",
            "ROOT CAUSE": "Hardware and Resource Limitations",
            "STAGE": "Inference",
            "model": f"m{n}",
        }
        for n in range(start, start + count)
    ]


def longest_statement(project, data, labels):
    with CaptureQueriesContext(connection) as queries:
        import_dataset(
            project=project, sources=[Source("a.json", json.dumps(data).encode())], labels=labels
        )
    return max(len(q["sql"]) for q in queries.captured_queries)


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(importing, "BATCH", BATCH, raising=False)


@pytest.mark.parametrize("labels", ["none", "final", "annotator:annotator_a"])
def test_longest_statement_does_not_grow_with_the_import(project, small_batches, labels):
    small = longest_statement(project, records(BATCH), labels)
    large = longest_statement(project, records(20 * BATCH, start=1000), labels)
    assert large < 1.5 * small, (small, large)


def test_batches_write_what_one_pass_would(project, small_batches, cast):
    data = records(12)
    # The same link in two files and far apart in one: one item, records in file order.
    data.append({**data[0], "SYMPTOM": "Crash"})
    second = [{**data[1], "SYMPTOM": "Crash"}]
    sources = [
        Source("a.json", json.dumps(data).encode()),
        Source("b.json", json.dumps(second).encode()),
    ]
    result = import_dataset(project=project, sources=sources, labels="annotator:annotator_a")
    assert (result.records, result.issues, result.items_created) == (14, 12, 12)
    assert Item.objects.filter(project=project).count() == 12
    assert list(Item.objects.order_by("position").values_list("position", flat=True)) == list(
        range(1, 13)
    )
    first = Item.objects.get(issue__number=1)
    assert first.metadata["model"] == "m1"
    assert [origin[0] for origin in first.metadata["origin"]] == ["a.json", "a.json"]
    second_item = Item.objects.get(issue__number=2)
    assert [origin[0] for origin in second_item.metadata["origin"]] == ["a.json", "b.json"]
    assert (first.assigned_count, first.submitted_count) == (1, 1)
    assert AnnotationLabel.objects.filter(item=first, dimension__key="symptom").count() == 2
    assert Annotation.objects.count() == 12
    assert Assignment.objects.filter(state=Assignment.State.SUBMITTED).count() == 12
    again = import_dataset(project=project, sources=sources, labels="annotator:annotator_a")
    assert not again.changed
    assert Item.objects.get(pk=first.pk).submitted_count == 1


def test_second_annotator_settles_items_across_batches(project, small_batches):
    sources = [Source("a.json", json.dumps(records(12)).encode())]
    import_dataset(project=project, sources=sources, labels="annotator:annotator_a")
    import_dataset(project=project, sources=sources, labels="annotator:annotator_b")
    assert Item.objects.filter(project=project, state=Item.State.SETTLED).count() == 12
    assert (
        FinalRecordLabel.objects.filter(item__project=project).values("item").distinct().count()
        == 12
    )
