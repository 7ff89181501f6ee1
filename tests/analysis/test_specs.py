import pytest

from analysis.specs import Source, Spec, SpecError, parse_source, parse_spec


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("dim:symptom", Spec("dim", "symptom")),
        ("dim:root_cause@2", Spec("dim", "root_cause", 2)),
        ("group", Spec("group")),
        ("repo", Spec("repo")),
        ("state", Spec("state")),
        ("year", Spec("year")),
        ("quarter", Spec("quarter")),
        ("meta:model", Spec("meta", "model")),
    ],
)
def test_parse_spec_accepts_the_contract(text, spec):
    assert parse_spec(text) == spec
    assert str(parse_spec(text)) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'rows' is missing"),
        ("colour", "is not a SPEC"),
        ("dim:symptom@0", "whole number from 1"),
        ("dim:symptom@x", "whole number from 1"),
        ("dim:", "dimension key"),
        ("meta:a b", "metadata name"),
    ],
)
def test_parse_spec_errors_name_the_problem(text, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(text, name="rows")


def test_parse_source():
    assert parse_source(None) == Source("final")
    assert parse_source("annotator:annotator_a") == Source("annotator", "annotator_a")
    with pytest.raises(SpecError, match="not a source"):
        parse_source("everyone")
