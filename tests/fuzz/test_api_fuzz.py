"""Schemathesis over every operation of /api/schema/, as each role (token auth): no 5xx,
and positive cases' replies match the schema. The long run is bench/bench_fuzz.py."""

import pytest

from . import harness

EXAMPLES = 3  # per operation, generation mode and role: about 230 requests per role


@pytest.fixture
def api_schema(db):
    with harness.keep_connection():
        yield harness.load_schema()


@pytest.mark.parametrize("role", ["owner", "lead", "annotator", "outsider"])
def test_no_operation_answers_5xx_or_off_schema(api_schema, world, role):
    assert len(harness.operations(api_schema)) >= 40
    tally = harness.fuzz_api(
        api_schema, token=world["tokens"][role], paths=world["paths"], examples=EXAMPLES
    )
    assert tally.requests >= 200
    assert not [status for status in tally.statuses if status >= 500], tally.failures
    assert tally.failures == []
