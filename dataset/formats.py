"""Reading and writing the dataset's file formats; Django-free.

Three formats carry the same records:

- ``olf``: the study's format, a JSON list of objects with ``number``, ``link``, ``status``,
  one field per codebook dimension (``SYMPTOM``, ``ROOT CAUSE``, ``STAGE``: the category path
  with its parts joined by `` - ``), ``model`` and ``architecture``.
- ``jsonl``: one such object per line.
- ``csv``: one such object per row, with a header line.

Column mapping (all three formats, import and export):

========================  ===================================================================
field / column            meaning
========================  ===================================================================
``link``                  the issue's GitHub URL, ``https://github.com/OWNER/NAME/issues/N``
                          (or ``/pull/N``); records that share a link are failure records of
                          the same issue, in file order
``status``                the issue's state, ``open`` or ``closed``
``number``                a running record number (kept as the record's origin with its
                          file, for ``export_dataset --layout study``; never validated)
dimension fields          a dimension with key ``root_cause`` is read from ``ROOT CAUSE``
                          (the key upper-cased, ``_`` as a space) or from ``root_cause``;
                          parts split on `` - `` and trimmed
``model``                 item metadata ``model``
``architecture``          item metadata ``architecture``
========================  ===================================================================

Exports add, beside these: ``repository``, ``group``, ``issue``, ``item``, ``record`` (index of
the failure record within its issue), ``source`` (``final`` or an annotator's pseudonym),
``provenance``, ``out_of_scope`` and ``codebook_version``; imports ignore them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from annotate.csv_cells import guard, unguard
from mining.progress import NAME_RULES, valid_repository_name

FORMATS = ("olf", "jsonl", "csv")
FILE_SUFFIXES = {"olf": (".json",), "jsonl": (".jsonl", ".ndjson"), "csv": (".csv",)}
# The study's whole dataset is 350 kB; anything far bigger is a mistake, refused unread.
MAX_FILE_BYTES = 10 * 1024 * 1024
PART_SEPARATOR = " - "
STATUSES = ("open", "closed")
METADATA_FIELDS = ("model", "architecture")
EXPORT_EXTRA_FIELDS = (
    "repository",
    "group",
    "issue",
    "item",
    "record",
    "source",
    "provenance",
    "out_of_scope",
    "codebook_version",
)

_LINK = re.compile(
    r"^https?://(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/"
    r"(?P<name>[A-Za-z0-9._-]{1,100})/(?P<kind>issues|pull)/(?P<number>[1-9][0-9]{0,9})/?$"
)
_SPLIT = re.compile(r"\s+-\s+")
TOO_DEEP = "the JSON is nested too deeply to read (a record is one flat object)"
# The database's limits (mining.Issue.number, annotate.Category.name and .path, joined
# with " > "): checked here so that a record past them is refused, not a crash on write.
MAX_ISSUE_NUMBER = 2**31 - 1
MAX_CATEGORY_NAME = 200
MAX_CATEGORY_PATH = 1000


class DatasetError(ValueError):
    """An invalid input, located by file, record and field."""

    def __init__(self, problem: str, *, file: str = "", record: int | None = None, field=""):
        self.problem = problem
        self.file = file
        self.record = record
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


@dataclass(frozen=True)
class IssueLink:
    owner: str
    name: str
    number: int
    is_pull_request: bool

    @property
    def url(self) -> str:
        kind = "pull" if self.is_pull_request else "issues"
        return f"https://github.com/{self.owner}/{self.name}/{kind}/{self.number}"


@dataclass
class SourceRecord:
    """One failure record read from a file: where it came from and what it says."""

    file: str
    index: int  # 1-based position in its file
    link: IssueLink
    status: str
    paths: dict[str, tuple[str, ...]]  # dimension key -> category path parts
    metadata: dict[str, str] = field(default_factory=dict)
    number: int | None = None  # the file's own `number` of the record, when it gives one
    # {field: value as the file spells it} for category values whose spelling differs from
    # the normalised path (extra spaces): kept so that the study's layout returns them as-is.
    spelled: dict[str, str] = field(default_factory=dict)


def field_name(dimension_key: str) -> str:
    """The olf field of a dimension: `root_cause` -> `ROOT CAUSE`."""
    return dimension_key.upper().replace("_", " ")


def parse_link(value) -> IssueLink:
    if not isinstance(value, str):
        raise ValueError("must be a GitHub issue URL")
    match = _LINK.match(value.strip())
    if not match:
        raise ValueError(
            f"'{value}' is not a GitHub issue URL (https://github.com/OWNER/NAME/issues/N)"
        )
    if not valid_repository_name(match["owner"], match["name"]):
        raise ValueError(f"'{value[:250]}' names no GitHub repository ({NAME_RULES})")
    if int(match["number"]) > MAX_ISSUE_NUMBER:
        raise ValueError(f"issue number {match['number']} is out of range")
    return IssueLink(
        owner=match["owner"],
        name=match["name"],
        number=int(match["number"]),
        is_pull_request=match["kind"] == "pull",
    )


def split_path(value) -> tuple[str, ...]:
    """Category path parts: split on ' - ', each trimmed, inner runs of spaces collapsed."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a category path like 'Crash - CUDA Error'")
    parts = tuple(" ".join(part.split()) for part in _SPLIT.split(value.strip()))
    if any(not part for part in parts):
        raise ValueError(f"'{value}' has an empty part")
    if any(len(part) > MAX_CATEGORY_NAME for part in parts):
        raise ValueError(f"a category name is longer than {MAX_CATEGORY_NAME} characters")
    if len(" > ".join(parts)) > MAX_CATEGORY_PATH or "\x00" in value:
        raise ValueError(f"not a category path (too long, or a NUL character): '{value[:80]}'")
    return parts


def join_path(parts: Iterable[str]) -> str:
    return PART_SEPARATOR.join(parts)


def read_objects(data: bytes, fmt: str, name: str) -> list[dict]:
    """The raw objects of one file held in memory, in order (see iter_objects)."""
    return list(iter_objects(io.BytesIO(data), fmt, name, size=len(data)))


def iter_objects(stream: BinaryIO, fmt: str, name: str, *, size: int) -> Iterator[dict]:
    """The raw objects of one binary file, in order, read in chunks of CHUNK_CHARS: memory
    stays bounded by the largest record, not the file. DatasetError on syntax or shape
    problems (raised when the reader reaches them)."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    if size > MAX_FILE_BYTES:
        raise DatasetError(too_big_message(size), file=name)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    readers = {"olf": _read_olf, "jsonl": _read_jsonl, "csv": _read_csv}
    count = 0
    try:
        for obj in readers[fmt](text, name):
            count += 1
            yield obj
    except UnicodeDecodeError as error:
        raise DatasetError(f"not UTF-8 text ({error.reason})", file=name) from None
    if not count:
        raise DatasetError("the file holds no records", file=name)


def too_big_message(size: int) -> str:
    return (
        f"the file is {size / 1024 / 1024:.1f} MB, over the import limit of "
        f"{MAX_FILE_BYTES // 1024 // 1024} MB; split it into smaller files"
    )


# Python refuses to convert integers of more than 4,300 digits (a ValueError, not a
# JSONDecodeError); such a number is never a field of a record.
TOO_MANY_DIGITS = "a number has more digits than Python reads (4,300); no field is such a number"
CHUNK_CHARS = 1 << 20
_SPACE = re.compile(r"[ \t\n\r]*")


class _Chunks:
    """A text stream's characters, kept in a sliding buffer: `need(n)` makes sure n
    characters past `pos` are held (or the stream ended), `drop()` forgets what was read
    and remembers how many lines it held, for error positions."""

    def __init__(self, text: TextIO):
        self.text = text
        self.buffer = ""
        self.pos = 0
        self.ended = False
        self.lines_before = 0
        self.line_start = 0  # offset in the buffer of the current line's first character

    def more(self) -> bool:
        if self.ended:
            return False
        chunk = self.text.read(CHUNK_CHARS)
        if not chunk:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    def skip_space(self) -> str:
        """The next non-blank character ('' at the end), not consumed."""
        while True:
            self.pos = _SPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.more():
                return ""

    def drop(self) -> None:
        if self.pos < CHUNK_CHARS:
            return  # cutting the buffer copies it: once per chunk read, not per record
        head = self.buffer[: self.pos]
        newlines = head.count("\n")
        if newlines:
            self.lines_before += newlines
            self.line_start = head.rindex("\n") + 1 - self.pos
        else:
            self.line_start -= self.pos
        self.buffer = self.buffer[self.pos :]
        self.pos = 0

    def where(self, offset: int) -> tuple[int, int]:
        head = self.buffer[:offset]
        newlines = head.count("\n")
        if newlines:
            return self.lines_before + newlines + 1, offset - head.rindex("\n")
        return self.lines_before + 1, offset - self.line_start + 1


def _broken(chunks: _Chunks, offset: int, message: str, name: str) -> DatasetError:
    line, column = chunks.where(offset)
    return DatasetError(f"broken JSON at line {line}, column {column}: {message}", file=name)


def _read_olf(text: TextIO, name: str) -> Iterator[dict]:
    """A JSON list of objects, decoded one object at a time with raw_decode."""
    decode = json.JSONDecoder().raw_decode
    chunks = _Chunks(text)
    first = chunks.skip_space()
    if not first:
        raise DatasetError("the file is empty", file=name)
    if first != "[":
        try:
            json.loads(chunks.buffer + text.read())
        except json.JSONDecodeError as error:
            raise _broken(chunks, error.pos, error.msg, name) from None
        except (RecursionError, ValueError):
            pass
        raise DatasetError("expected a JSON list of records", file=name)
    chunks.pos += 1
    index = 0
    while True:
        char = chunks.skip_space()
        if char == "]" and index == 0:
            chunks.pos += 1
            break
        index += 1
        while True:
            try:
                obj, end = decode(chunks.buffer, chunks.pos)
                break
            except json.JSONDecodeError as error:
                # Perhaps the object goes on in the next chunk; otherwise it is broken.
                if not chunks.more():
                    raise _broken(chunks, error.pos, error.msg, name) from None
            except RecursionError:
                raise DatasetError(TOO_DEEP, file=name) from None
            except ValueError:
                raise DatasetError(TOO_MANY_DIGITS, file=name, record=index) from None
        if not isinstance(obj, dict):
            raise DatasetError("expected a JSON object", file=name, record=index)
        chunks.pos = end
        yield obj
        char = chunks.skip_space()
        if char == ",":
            chunks.pos += 1
        elif char == "]":
            chunks.pos += 1
            break
        else:
            raise _broken(chunks, chunks.pos, "Expecting ',' delimiter", name)
        chunks.drop()
    if chunks.skip_space():
        raise _broken(chunks, chunks.pos, "Extra data", name)


def _read_jsonl(text: TextIO, name: str) -> Iterator[dict]:
    count = 0
    blank = True
    for lineno, line in enumerate(text, start=1):
        if not line.strip():
            continue
        blank = False
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(
                f"broken JSON on line {lineno}: {error.msg}", file=name, record=count + 1
            ) from None
        except RecursionError:
            raise DatasetError(TOO_DEEP, file=name, record=count + 1) from None
        except ValueError:
            raise DatasetError(TOO_MANY_DIGITS, file=name, record=count + 1) from None
        if not isinstance(obj, dict):
            raise DatasetError("expected a JSON object", file=name, record=count + 1)
        count += 1
        yield obj
    if blank:
        raise DatasetError("the file is empty", file=name)


def _read_csv(text: TextIO, name: str) -> Iterator[dict]:
    reader = csv.DictReader(text)
    index = 0
    header_read = False
    try:
        if not reader.fieldnames:
            raise DatasetError("the file is empty", file=name)
        if not any(field.strip() for field in reader.fieldnames):
            raise DatasetError("the CSV file has no header line", file=name)
        header_read = True
        # Exports guard formula-like text with a quote (csv_cells); take exactly that off.
        reader.fieldnames = [unguard(column) for column in reader.fieldnames]
        for index, row in enumerate(reader, start=1):
            if None in row:
                raise DatasetError("more cells than header columns", file=name, record=index)
            yield {k: unguard(v) for k, v in row.items() if v is not None}
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            problem = f"a cell is longer than the limit of {csv.field_size_limit():,} characters"
        else:
            problem = f"unreadable CSV ({error})"
        raise DatasetError(problem, file=name, record=index + 1 if header_read else None) from None


def parse_record(
    obj: dict, *, file: str, index: int, dimension_keys: Iterable[str], required: Iterable[str]
) -> SourceRecord:
    """Validate one raw object into a SourceRecord; DatasetError names the field."""

    def fail(problem, field_):
        raise DatasetError(problem, file=file, record=index, field=field_)

    if "link" not in obj or obj["link"] in (None, ""):
        fail("missing", "link")
    try:
        link = parse_link(obj["link"])
    except ValueError as error:
        fail(str(error), "link")
    status = obj.get("status")
    if status is None or status == "":
        fail("missing", "status")
    status = str(status).strip().lower()
    if status not in STATUSES:
        fail(f"'{obj['status']}' is not one of {', '.join(STATUSES)}", "status")
    required = set(required)
    paths = {}
    spelled = {}
    for key in dimension_keys:
        name = field_name(key)
        value = obj.get(name, obj.get(key))
        if value is None or (isinstance(value, str) and not value.strip()):
            if key in required:
                fail("missing", name)
            continue
        try:
            paths[key] = split_path(value)
        except ValueError as error:
            fail(str(error), name)
        if value != join_path(paths[key]):
            spelled[name] = value
    metadata = {}
    for meta in METADATA_FIELDS:
        value = obj.get(meta)
        if value not in (None, ""):
            metadata[meta] = str(value).strip()
            if "\x00" in metadata[meta]:
                fail("contains a NUL character", meta)
    return SourceRecord(
        file=file,
        index=index,
        link=link,
        status=status,
        paths=paths,
        metadata=metadata,
        number=_record_number(obj.get("number")),
        spelled=spelled,
    )


def _record_number(value) -> int | None:
    """The record's own running number, when it is one (kept for the study's layout on
    export; anything else is ignored, as the format has always ignored it)."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 9:
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


# --- writing ---------------------------------------------------------------------------


def olf_fields(dimension_keys: Iterable[str], extra: bool) -> list[str]:
    names = ["number", "link", "status", *(field_name(k) for k in dimension_keys)]
    names += list(METADATA_FIELDS)
    if extra:
        names += list(EXPORT_EXTRA_FIELDS)
    return names


def write_olf(rows: Iterable[dict]) -> Iterator[str]:
    """A JSON list, one record per line, produced piece by piece."""
    first = True
    for row in rows:
        yield ("[\n  " if first else ",\n  ") + json.dumps(row, ensure_ascii=False)
        first = False
    yield "[]\n" if first else "\n]\n"


def write_jsonl(rows: Iterable[dict]) -> Iterator[str]:
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for row in rows:
        yield dumps(row) + "\n"


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self):
        self.value = ""

    def write(self, text):
        self.value = text


def write_csv(rows: Iterable[dict], fields: list[str]) -> Iterator[str]:
    sink = _Line()
    writer = csv.writer(sink)
    writer.writerow([guard(name) for name in fields])  # a dimension key may start with '-'
    yield sink.value
    for row in rows:
        writer.writerow([_csv_cell(row.get(name)) for name in fields])
        yield sink.value


def _csv_cell(value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return guard(value)


def write_rows(rows: Iterable[dict], fmt: str, fields: list[str]) -> Iterator[str]:
    if fmt == "olf":
        return write_olf(rows)
    if fmt == "jsonl":
        return write_jsonl(rows)
    if fmt == "csv":
        return write_csv(rows, fields)
    raise DatasetError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
