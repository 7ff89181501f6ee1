"""The one wire shape of a failure record (annotate.records) as DRF fields.

Every endpoint that reads or writes failure records names the same OpenAPI component,
`FailureRecord` (its labels `FailureRecordLabel`): output fields declare it with
`extend_schema_field(RECORDS)`, input fields are a `FailureRecordsField`.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from annotate.limits import MAX_LABELS, MAX_RECORDS
from annotate.limits import TEXT_LIMITS as L
from annotate.records import WireError, parse_wire


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "A category id, or its full path ('Crash > CUDA Error > Out of Memory'); "
        "the API always writes the id.",
    }
)
class CategoryRefField(serializers.Field):
    """A category named by id or by full path; the service resolves it."""

    default_error_messages = {"invalid": "Name a category by its id or its full path."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip():
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class TextField(serializers.CharField):
    """A string, and only a string: DRF's CharField turns 5 or 1.5 into '5' or '1.5', so
    a number sent as a dimension or as evidence was stored as its digits."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FailureRecordLabelSerializer(serializers.Serializer):
    dimension = TextField(help_text="The dimension's key, e.g. 'symptom'.")
    category = CategoryRefField()
    path = serializers.CharField(
        read_only=True, help_text="The category's full path (ignored on a write)."
    )
    evidence = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=L["evidence"],
        trim_whitespace=True,
        help_text="The annotator's quote from the issue; always '' on a final label (a "
        "decision's evidence is ignored).",
    )
    span = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=120,
        write_only=True,
        help_text="Submissions only: where the evidence quote stands in the issue, "
        "'part:start:end:hash', part being 'title', 'body', 'comment-<id>' or 'fix-<id>' (a "
        "fix link's title), start and end "
        "code points of the part's text as the labeling page shows it, hash its SHA-256 "
        "(docs/evidence.md).",
    )


class FailureRecordSerializer(serializers.Serializer):
    record = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="The record's number in its annotation or final label, from 0. Optional on "
        "a write: records are numbered in the order sent.",
    )
    labels = FailureRecordLabelSerializer(
        many=True, max_length=MAX_LABELS, help_text="One label per dimension of this record."
    )


RECORDS = FailureRecordSerializer(many=True)


def _messages(detail, where: tuple = ()):
    """DRF's nested error detail as flat (place, message) pairs; the entries of the one
    nested list, a record's labels, are named from 1 ("label 2")."""
    if isinstance(detail, dict):
        entries = detail.items()
    elif isinstance(detail, list) and any(isinstance(x, dict | list) for x in detail):
        entries = enumerate(detail)
    else:
        for message in detail if isinstance(detail, list) else [detail]:
            yield where, str(message)
        return
    for key, value in entries:
        if not value:
            continue
        if isinstance(key, int):
            place = (*where[:-1], f"label {key + 1}")
        else:
            place = where if key == "non_field_errors" else (*where, str(key))
        yield from _messages(value, place)


class FailureRecordsField(serializers.ListField):
    """Failure records on a write, each in the one wire shape. A refused record is named in
    one flat message ("Failure record 2, label 1, category: ..."), so that the error body's
    `fields` stays {field: [message]}."""

    def __init__(self, **kwargs):
        super().__init__(child=FailureRecordSerializer(), max_length=MAX_RECORDS, **kwargs)

    def run_child_validation(self, data):
        if len(data) > MAX_RECORDS:
            raise ValidationError([f"At most {MAX_RECORDS} failure records; {len(data):,} sent."])
        records = []
        numbers: dict[int, int] = {}
        for number, raw in enumerate(data, start=1):
            try:
                labels = parse_wire(raw)
            except WireError as error:
                raise ValidationError([f"Failure record {number}: {error}."]) from None
            if len(labels) > MAX_LABELS:
                raise ValidationError(
                    [f"Failure record {number}: at most {MAX_LABELS} labels; {len(labels):,} sent."]
                )
            given = raw.get("record")
            if given is not None and given in numbers:
                # Two records of one number: which is record n is ambiguous (a merge gone
                # wrong, or a record pasted twice), not something to renumber silently.
                raise ValidationError(
                    [
                        f"Failure record {number}: record number {given} is already failure "
                        f"record {numbers[given]}'s; each record's number is given once."
                    ]
                )
            if given is not None:
                numbers[given] = number
            try:
                records.append(self.child.run_validation(raw))
            except ValidationError as error:
                raise ValidationError(
                    [
                        ", ".join([f"Failure record {number}", *where]) + f": {message}"
                        for where, message in _messages(error.detail)
                    ]
                ) from None
        return records


def read_failure_records(raw) -> list[dict]:
    """A request's failure records read outside a serializer (a view that takes the body by
    hand), checked exactly as FailureRecordsField checks them; a refused one is a
    ValidationError whose message names it ("records: Failure record 2: ...")."""
    try:
        return FailureRecordsField().run_validation(raw)
    except ValidationError as error:
        messages = [f"records: {message}" for _, message in _messages(error.detail)]
        raise ValidationError({"non_field_errors": messages}) from None
