"""Length limits of the free texts members write (issue #12): checked by the services, so
the pages, the API and the commands refuse an over-long text alike with a message naming
the field and its limit, and declared on the API's input serializers (a 400 per field).
Django-free. The README lists them."""

from __future__ import annotations

TEXT_LIMITS = {
    "note": 10_000,  # an annotator's note on an annotation
    "evidence": 5_000,  # one evidence quote of a label
    "out_of_scope_reason": 2_000,  # annotations and decisions
    "rationale": 10_000,  # a lead's decision
    "reason": 2_000,  # skipping an item, re-opening one
    "discussion_note": 10_000,  # sending an item to discussion
    "message": 5_000,  # a message in an item's discussion thread
    "description": 5_000,  # a category's description; a project's description
    "example": 1_000,  # one example of a category
    "guidelines": 100_000,  # a project's annotator guidelines (Markdown)
}
MAX_EXAMPLES = 50  # examples per category
# Failure records per annotation or decision sent over the API, and labels per record: the
# decision page offers at most 50 records (the labeling page 20), and a record has one label
# per dimension. Checked before each record is validated, so a huge array costs nothing.
MAX_RECORDS = 50
MAX_LABELS = 50


def too_long(field: str, value, *, label: str | None = None) -> str | None:
    """A message when `value` is over the limit of `field`, else None."""
    limit = TEXT_LIMITS[field]
    if isinstance(value, str) and len(value) > limit:
        return (
            f"'{label or field}' is {len(value):,} characters long, over its limit of "
            f"{limit:,}; shorten it."
        )
    return None


def first_too_long(**fields) -> str | None:
    """The first message of too_long over `fields` (name=value), or None."""
    for field, value in fields.items():
        problem = too_long(field, value)
        if problem:
            return problem
    return None


def examples_problem(examples) -> str | None:
    if examples is None:
        return None
    if len(examples) > MAX_EXAMPLES:
        return f"'examples' holds {len(examples)} examples, over its limit of {MAX_EXAMPLES}."
    for example in examples:
        problem = too_long("example", example, label="examples")
        if problem:
            return problem
    return None


def not_one_line(field: str, value) -> str | None:
    """A message when `value` holds a line break or another control character: names
    (a project's) are shown on one line, and citation files and headings are built from
    them."""
    if isinstance(value, str) and any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        return f"'{field}' must be one line of text, without line breaks or control characters."
    return None
