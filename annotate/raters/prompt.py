"""The LLM rater's prompt, built from the codebook (each dimension's categories with their
definitions and examples), and the check of its answer: JSON that names, for every
required dimension of every failure record, an active category of the codebook by its
full path, a confidence in [0, 1] and an evidence quote. An answer that fails any check
is invalid (retried, then a failure): it never becomes a label."""

from __future__ import annotations

import json
from dataclasses import dataclass

PROMPT_VERSION = "v1"
MAX_RECORDS = 5

SYSTEM = """\
You label GitHub issues of software failures against a codebook, as a careful research
annotator. An issue may report no failure at all (a question, a feature request): then it
is out of scope. It may report more than one distinct failure: then give one record each.
For every dimension of every record choose exactly one category, by its full path as
written below (the deepest level the issue supports), say how confident you are (0 to 1),
and quote the sentence or log line that decided it, copied verbatim from the issue.

Answer with one JSON object and nothing else:
{"out_of_scope": false, "records": [{"<dimension key>": {"category": "<full path>",
"confidence": 0.0, "evidence": "<verbatim quote>"}, ...}]}
or {"out_of_scope": true, "records": []}."""


@dataclass
class Answer:
    out_of_scope: bool
    # [{dimension key: (category id, confidence, evidence)}]
    records: list[dict[str, tuple[int, float, str]]]


class InvalidAnswer(ValueError):
    """The answer cannot be read as labels of this codebook; the message says why."""

    reason = "invalid_answer"  # a RaterItem.Reason value


class InvalidJSON(InvalidAnswer):
    """The answer is not a JSON object at all."""

    reason = "invalid_json"


def codebook_text(book) -> str:
    """The codebook as the prompt shows it: dimensions, then active categories with their
    descriptions and examples."""
    lines = []
    for dimension in book.dimensions:
        required = "required" if dimension.required else "optional"
        lines.append(f"\n## Dimension `{dimension.key}`: {dimension.name} ({required})")
        if dimension.description:
            lines.append(dimension.description.strip())
        for category in book.walk(dimension.pk):
            if category.pk in book.retired or any(
                a in book.retired for a in book.lineage(category.pk)
            ):
                continue
            line = f"- {category.path}"
            if category.description:
                line += f": {category.description.strip()}"
            lines.append(line)
            for example in (category.examples or [])[:3]:
                lines.append(f"    example: {str(example).strip()[:300]}")
    return "\n".join(lines).strip()


def messages(book, guidelines: str, issue_text: str) -> list[dict]:
    system = SYSTEM + "\n\n# Codebook\n" + codebook_text(book)
    if guidelines.strip():
        system += "\n\n# Guidelines\n" + guidelines.strip()[:4000]
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Label this issue.\n\n" + issue_text},
    ]


def _strip_fence(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def parse_answer(content: str, book) -> Answer:
    """The answer's labels, checked against `book`; InvalidAnswer naming the first
    problem otherwise."""
    try:
        data = json.loads(_strip_fence(content))
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and numbers past Python's digit limit.
        raise InvalidJSON("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidJSON("the answer is not a JSON object")
    out = data.get("out_of_scope", False)
    records = data.get("records", [])
    if not isinstance(out, bool) or not isinstance(records, list):
        raise InvalidAnswer("'out_of_scope' must be true or false and 'records' a list")
    if out:
        return Answer(out_of_scope=True, records=[])
    if not records or len(records) > MAX_RECORDS:
        raise InvalidAnswer(f"an in-scope answer needs 1 to {MAX_RECORDS} records")
    parsed = [_record(record, number, book) for number, record in enumerate(records, 1)]
    return Answer(out_of_scope=False, records=parsed)


def _record(record, number: int, book) -> dict[str, tuple[int, float, str]]:
    if not isinstance(record, dict):
        raise InvalidAnswer(f"record {number} is not an object")
    unknown = set(record) - set(book.by_key)
    if unknown:
        raise InvalidAnswer(
            f"record {number}: unknown dimension {json.dumps(sorted(map(str, unknown))[0])[:200]}"
        )
    labels = {}
    for dimension in book.dimensions:
        value = record.get(dimension.key)
        if value is None:
            if dimension.required:
                raise InvalidAnswer(f"record {number}: dimension '{dimension.key}' is missing")
            continue
        if not isinstance(value, dict):
            raise InvalidAnswer(f"record {number}, '{dimension.key}': not an object")
        path, confidence = value.get("category"), value.get("confidence")
        evidence = value.get("evidence", "")
        category = book.by_path.get((dimension.pk, path)) if isinstance(path, str) else None
        if category is None or category.pk in book.retired:
            raise InvalidAnswer(
                f"record {number}, '{dimension.key}': unknown category {json.dumps(path)[:200]}"
            )
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0 <= confidence <= 1
        ):
            raise InvalidAnswer(
                f"record {number}, '{dimension.key}': confidence must be a number in [0, 1]"
            )
        if not isinstance(evidence, str):
            raise InvalidAnswer(f"record {number}, '{dimension.key}': evidence must be text")
        # PostgreSQL text cannot hold NUL: a quote with one would fail the whole run.
        labels[dimension.key] = (
            category.pk,
            float(confidence),
            evidence.replace("\x00", "")[:2000],
        )
    return labels
