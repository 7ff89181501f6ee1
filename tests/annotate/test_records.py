"""Failure records (annotate.records) and categories named by id or path
(annotate.codebook.queries): the one grouping, the one wire shape, the one parser."""

from types import SimpleNamespace

import pytest

from annotate.codebook.queries import (
    CategoryRef,
    CategoryRefError,
    Codebook,
    category_ref,
    read_codebook,
)
from annotate.models import Category, Dimension
from annotate.records import (
    LabelRef,
    LabelRow,
    WireError,
    as_ids,
    grouped,
    named_paths,
    numbered,
    parse_wire,
    to_wire,
)

SYMPTOM = SimpleNamespace(pk=1, key="symptom", order=0)
CAUSE = SimpleNamespace(pk=2, key="root_cause", order=1)


def label(record, dimension, category_id, path, evidence=""):
    category = SimpleNamespace(pk=category_id, path=path)
    return SimpleNamespace(
        record=record,
        dimension=dimension,
        dimension_id=dimension.pk,
        category=category,
        category_id=category_id,
        evidence=evidence,
    )


# Record 3 before record 0, and record 3's labels out of dimension order.
LABELS = [
    label(3, CAUSE, 21, "GPU Memory", "OOM at step 2"),
    label(3, SYMPTOM, 11, "Crash > OOM"),
    label(0, SYMPTOM, 12, "Hang"),
    label(0, CAUSE, 22, "Deadlock"),
]


def test_records_are_grouped_in_record_order_keeping_the_labels_order():
    assert [(n, [lab.category_id for lab in g]) for n, g in numbered(LABELS)] == [
        (0, [12, 22]),
        (3, [21, 11]),
    ]
    assert [[lab.category_id for lab in g] for g in grouped(LABELS, dimension_order=True)] == [
        [12, 22],
        [11, 21],
    ]
    assert grouped([]) == []


def test_records_as_ids_from_rows_or_values():
    assert as_ids(LABELS) == [{1: 12, 2: 22}, {2: 21, 1: 11}]
    rows = [LabelRow(5, 1, 11), LabelRow(5, 2, 21), LabelRow(1, 1, 12), LabelRow(1, 2, 22)]
    assert as_ids(rows) == [{1: 12, 2: 22}, {1: 11, 2: 21}]


def test_the_one_wire_shape_of_a_record():
    wire = to_wire(LABELS)
    assert [r["record"] for r in wire] == [0, 3]
    assert wire[1] == {
        "record": 3,
        "labels": [
            {
                "dimension": "root_cause",
                "category": 21,
                "path": "GPU Memory",
                "evidence": "OOM at step 2",
            },
            {"dimension": "symptom", "category": 11, "path": "Crash > OOM", "evidence": ""},
        ],
    }
    assert list(wire[1]) == ["record", "labels"]
    assert list(wire[1]["labels"][0]) == ["dimension", "category", "path", "evidence"]
    # A final label's rows carry no evidence: the key is there, empty.
    final = SimpleNamespace(
        record=0, dimension=SYMPTOM, category=SimpleNamespace(pk=12, path="Hang")
    )
    assert to_wire([final])[0]["labels"][0]["evidence"] == ""


def test_a_record_read_back_names_the_same_categories():
    book = Codebook(
        dimensions=[
            Dimension(pk=1, key="symptom", order=0),
            Dimension(pk=2, key="root_cause", order=1),
        ],
        categories=[
            Category(pk=pk, dimension_id=dim, parent_id=None, name=path, path=path)
            for pk, dim, path in [
                (11, 1, "Crash > OOM"),
                (12, 1, "Hang"),
                (21, 2, "GPU Memory"),
                (22, 2, "Deadlock"),
            ]
        ],
    )
    back = [parse_wire(record) for record in to_wire(LABELS)]
    found = [
        {ref.dimension: book.find(book.by_key[ref.dimension].pk, ref.category).pk for ref in refs}
        for refs in back
    ]
    assert found == [{"symptom": 12, "root_cause": 22}, {"root_cause": 21, "symptom": 11}]
    assert back[1][0] == LabelRef("root_cause", 21, "OOM at step 2")
    # On a write the number and the evidence may be left out, and a category named by path.
    written = {"labels": [{"dimension": "symptom", "category": "Hang"}]}
    assert parse_wire(written) == [LabelRef("symptom", "Hang", "")]


@pytest.mark.parametrize(
    "raw",
    [
        ["Crash"],
        "Crash",
        {"symptom": "Crash"},  # the former shape of a lead's decision
        {"labels": "Crash"},
        {"labels": ["Crash"]},
        {"labels": {"symptom": "Crash"}},  # the former shape of the generic read API
        {"record": "0", "labels": []},
        {"record": True, "labels": []},
    ],
)
def test_a_record_in_another_shape_is_refused(raw):
    with pytest.raises(WireError):
        parse_wire(raw)


def test_the_audit_trail_records_read_as_named_paths():
    stored = to_wire(LABELS)
    names = {"symptom": "Symptom"}
    assert named_paths(stored, names) == [
        [("Symptom", "Hang"), ("root_cause", "Deadlock")],
        [("root_cause", "GPU Memory"), ("Symptom", "Crash > OOM")],
    ]
    assert named_paths([{"symptom": "Hang"}, "junk"], names) == []
    assert named_paths(None, names) == []


@pytest.mark.parametrize(
    "value, expected",
    [
        (7, CategoryRef(7, None)),
        ("7", CategoryRef(7, "7")),
        ("  42 ", CategoryRef(42, "42")),
        ("Crash > OOM", CategoryRef(None, "Crash > OOM")),
        ("²", CategoryRef(None, "²")),  # a digit to isdigit(), not to int()
        ("1" * 19, CategoryRef(None, "1" * 19)),  # past PostgreSQL's bigint
    ],
)
def test_a_category_is_named_by_id_or_by_path(value, expected):
    assert category_ref(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        (True, "'True' is not a category id or path."),
        ("", "A label names no category."),
        ("   ", "A label names no category."),
        (None, "A label names no category."),
    ],
)
def test_a_value_that_names_no_category_is_refused(value, message):
    with pytest.raises(CategoryRefError, match=message):
        category_ref(value)


def _book() -> Codebook:
    symptom = Dimension(pk=1, key="symptom", order=0)
    other = Dimension(pk=2, key="stage", order=1)
    crash = Category(pk=5, dimension_id=1, parent_id=None, name="Crash", path="Crash")
    digits = Category(pk=6, dimension_id=1, parent_id=None, name="5", path="5")
    train = Category(pk=7, dimension_id=2, parent_id=None, name="Train", path="Train")
    return Codebook(dimensions=[symptom, other], categories=[crash, digits, train])


def test_find_prefers_the_path_unless_asked_for_the_id_first():
    book = _book()
    assert book.find(1, "5").pk == 6
    assert book.find(1, "5", id_first=True).pk == 5
    assert book.find(1, 5).pk == 5  # an int is an id only
    assert book.find(1, "Crash").pk == 5
    assert book.find(1, "7") is None  # another dimension's category
    assert book.find(2, "Crash") is None
    with pytest.raises(CategoryRefError):
        book.find(1, " ")


def test_the_in_memory_codebook_walks_and_nests_its_trees(project):
    book = read_codebook(project)
    for dimension in book.dimensions:
        walked = list(book.walk(dimension.pk))
        assert sorted(c.pk for c in walked) == sorted(
            c.pk for c in book.categories if c.dimension_id == dimension.pk
        )
        for category in walked:
            assert book.lineage(category.pk)[-1] == category.pk
            assert len(book.lineage(category.pk)) == category.depth
            parent = category.parent_id
            assert parent is None or walked.index(book.by_id[parent]) < walked.index(category)
    first = book.dimensions[0]
    top = book.tree(first.pk)
    assert [entry["category"].parent_id for entry in top] == [None] * len(top)
    retired = top[0]["category"]
    book.retired.add(retired.pk)
    retired.retired = True
    assert retired not in [e["category"] for e in book.tree(first.pk, include_retired=False)]
