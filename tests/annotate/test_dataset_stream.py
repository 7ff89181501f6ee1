"""The streaming readers of dataset_io (Django-free): records split across chunks read the
same as whole, errors keep their line and column, and crafted numbers and cells are
refused by name."""

import io
import json

import pytest

from dataset import formats as dataset_io
from dataset.formats import DatasetError, iter_objects, read_objects

RECORDS = [
    {"link": f"https://github.com/a/b/issues/{n}", "status": "open", "SYMPTOM": "Crash " * n}
    for n in range(1, 60)
]


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(dataset_io, "CHUNK_CHARS", 7)


def test_olf_split_across_many_chunks_reads_as_whole(tiny_chunks):
    data = json.dumps(RECORDS, indent=2).encode()
    assert read_objects(data, "olf", "x.json") == RECORDS


def test_olf_is_read_lazily_one_record_at_a_time(tiny_chunks):
    data = json.dumps(RECORDS).encode() + b"garbage"
    objects = iter_objects(io.BytesIO(data), "olf", "x.json", size=len(data))
    assert next(objects) == RECORDS[0]
    with pytest.raises(DatasetError, match="Extra data"):
        list(objects)


@pytest.mark.parametrize("chunk", [7, 1 << 20])
def test_broken_olf_names_the_same_line_and_column_as_json(monkeypatch, chunk):
    monkeypatch.setattr(dataset_io, "CHUNK_CHARS", chunk)
    text = json.dumps(RECORDS, indent=2)
    at = text.index('"status"', len(text) // 2)
    broken = text[:at] + "!" + text[at:]
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(broken)
    with pytest.raises(DatasetError) as error:
        read_objects(broken.encode(), "olf", "x.json")
    where = f"line {expected.value.lineno}, column {expected.value.colno}"
    assert where in str(error.value)


@pytest.mark.parametrize("fmt", ["olf", "jsonl"])
def test_integers_past_pythons_digit_limit_are_refused_by_record(fmt):
    record = '{"link": "https://github.com/a/b/issues/1", "number": %s}' % ("9" * 5000)
    data = ("[" + record + "]" if fmt == "olf" else record + "\n").encode()
    with pytest.raises(DatasetError) as error:
        read_objects(data, fmt, "n")
    assert str(error.value).startswith("n, record 1: a number has more digits")


def test_csv_cell_past_the_field_limit_names_its_record():
    data = "link,model\nx,y\nx," + "m" * 200_000 + "\n"
    with pytest.raises(DatasetError) as error:
        read_objects(data.encode(), "csv", "c.csv")
    assert str(error.value) == (
        "c.csv, record 2: a cell is longer than the limit of 131,072 characters"
    )


def test_csv_header_past_the_field_limit_names_the_file():
    with pytest.raises(DatasetError, match="^c.csv: a cell is longer"):
        read_objects(b"x" * 200_000 + b"\n1\n", "csv", "c.csv")
