"""Schemathesis over the operations that read or write failure records (the one record
shape), with more examples than the whole-API run: no 5xx, positive replies on schema."""

import pytest

from . import harness

EXAMPLES = 25
RECORD_PATHS = ("/adjudication/", "/annotations/", "/final-labels/", "/history/", "/conflicts/")


@pytest.fixture
def api_schema(db):
    with harness.keep_connection():
        yield harness.load_schema()


@pytest.mark.parametrize("role", ["lead", "annotator"])
def test_record_operations_never_answer_5xx_or_off_schema(api_schema, world, role):
    operations = [op for op in harness.operations(api_schema) if op.path.endswith(RECORD_PATHS)]
    assert len(operations) >= 6
    tally = harness.Tally()
    for operation in operations:
        tally.add(
            harness.fuzz_operation(
                operation, token=world["tokens"][role], paths=world["paths"], examples=EXAMPLES
            )
        )
    assert tally.requests >= 100
    assert tally.failures == []
