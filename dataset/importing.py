"""Importing labeled datasets (olf, JSONL, CSV) into a project, all or nothing: reading
the sources, resolving categories (adding missing ones when asked), and handing batches
to dataset.import_writes."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from annotate import access
from annotate.models import (
    PATH_SEPARATOR,
    AuditEvent,
    Category,
    CodebookChange,
    Project,
)
from dataset.formats import (
    FILE_SUFFIXES,
    FORMATS,
    MAX_FILE_BYTES,
    DatasetError,
    SourceRecord,
    field_name,
    iter_objects,
    join_path,
    parse_record,
    too_big_message,
)
from dataset.groups import GroupRule, GroupRuleError, make_rule, parse_rule
from dataset.import_writes import (
    BATCH,
    ImportFailed,
    ImportResult,
    PendingIssue,
    WriteState,
    write_batch,
)

LABEL_MODES = ("final", "none", "annotator:USERNAME")


@dataclass
class Source:
    """One file, in memory (`data`) or on disk (`path`), and the name errors refer to it by.
    Read as a stream either way. `relative` is its path inside the folder it was found in
    (kept on each item as the record's origin, for the study's layout on export)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    relative: str = ""

    @property
    def origin(self) -> str:
        return self.relative or PurePath(self.name).name

    def size(self) -> int:
        return len(self.data) if self.data is not None else os.stat(self.path).st_size

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


def collect_sources(paths: list[str | Path], fmt: str) -> list[Source]:
    """Read the files named by `paths`; folders are searched recursively for the format's
    suffixes (names may contain or end in spaces). Oversized files are refused unread."""
    if fmt not in FORMATS:
        raise ImportFailed(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    files: list[tuple[Path, str]] = []
    # Files named one by one keep their path below the folder they share, so that two files
    # of one name in different folders stay two files of the study's layout on export.
    named = [Path(raw).resolve() for raw in paths if Path(raw).is_file()]
    shared = Path(os.path.commonpath([p.parent for p in named])) if named else None
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.endswith(FILE_SUFFIXES[fmt])
            )
            if not found:
                raise ImportFailed(
                    f"{path}: no {'/'.join(FILE_SUFFIXES[fmt])} files in this folder."
                )
            files.extend((p, p.relative_to(path).as_posix()) for p in found)
        elif path.is_file():
            files.append((path, path.resolve().relative_to(shared).as_posix()))
        else:
            raise ImportFailed(f"{path}: no such file or folder.")
    sources = []
    for path, relative in files:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailed(f"{path}: {too_big_message(size)}.")
        sources.append(Source(name=str(path), path=path, relative=relative))
    return sources


def parse_labels_option(labels: str) -> tuple[str, str | None]:
    """('final'|'none'|'annotator', username or None) from --labels."""
    if labels in ("final", "none"):
        return labels, None
    if labels.startswith("annotator:") and labels.split(":", 1)[1].strip():
        return "annotator", labels.split(":", 1)[1].strip()
    raise ImportFailed(f"--labels must be one of {', '.join(LABEL_MODES)}, not '{labels}'.")


Progress = Callable[[float], None]


def import_dataset(
    *,
    project: Project,
    sources: list[Source],
    fmt: str = "olf",
    labels: str = "final",
    add_categories: bool = False,
    group: str | None = None,
    group_map: str | dict | None = None,
    user=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import failure records into `project` in one transaction.

    The files are read as streams and written in batches of BATCH issues, so memory and
    every statement stay bounded. The first invalid record raises ImportFailed naming file,
    record, field and problem, and nothing is written. Imports into one project take turns
    (a row lock on the project). Idempotent: importing the same sources again changes
    nothing; a record that contradicts labels already stored is an error.

    `group` and `group_map` are the group rule (dataset.groups): the group of each
    repository new to the project, and of the repositories the map names."""
    report = progress or (lambda fraction: None)
    rule = group_rule(group, group_map)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each batch's statements name up to BATCH ids; PostgreSQL's JIT compiles such
            # statements for longer than they run (seconds per batch at 100,000 records).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        Project.objects.select_for_update().filter(pk=project.pk).first()
        project.refresh_from_db(fields=["codebook_version"])
        return _import(project, sources, fmt, labels, add_categories, rule, user, report)


class BadGroupRule(ImportFailed):
    """The group rule (`field` "group") or its map ("group_map") is unusable."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def group_rule(group: str | None, group_map: str | dict | None) -> GroupRule:
    """The import's group rule; BadGroupRule naming the problem when it is unusable."""
    try:
        parse_rule(group)
    except GroupRuleError as error:
        raise BadGroupRule(str(error), "group") from None
    try:
        return make_rule(group, group_map)
    except GroupRuleError as error:
        raise BadGroupRule(str(error), "group_map") from None


def _import(project, sources, fmt, labels, add_categories, rule, user, report):
    mode, username = parse_labels_option(labels)
    annotator = _annotator(project, username) if mode == "annotator" else None
    dimensions = list(access.project_dimensions(project))
    result = ImportResult(files=len(sources))
    category_ids = _category_ids(project, dimensions)
    issues: dict[str, PendingIssue] = {}
    resolve = _Resolver(project, dimensions, category_ids, add_categories, user, result)
    for number, source in enumerate(sources):
        for record in _records(source, fmt, dimensions):
            result.records += 1
            issue = issues.get(record.link.url)
            if issue is None:
                issue = PendingIssue(
                    record.link, record.status, record.metadata, record.file, record.index
                )
                issues[record.link.url] = issue
            origin = [source.origin, record.number]
            issue.origins.append([*origin, record.spelled] if record.spelled else origin)
            if mode != "none":
                for key, parts in record.paths.items():
                    issue.rows.append(
                        (issue.records, resolve.dimension_id[key], resolve(record, key, parts))
                    )
            issue.records += 1
        report(0.5 * (number + 1) / len(sources))
    if not result.records:
        raise ImportFailed("No records to import.")
    result.issues = len(issues)
    try:
        groups = rule.assign((i.link.owner, i.link.name) for i in issues.values())
    except GroupRuleError as error:
        raise ImportFailed(str(error)) from None
    state = WriteState(project, groups, rule)
    batch: list[PendingIssue] = []
    done = 0
    for issue in issues.values():
        batch.append(issue)
        if len(batch) == BATCH:
            write_batch(state, batch, mode, annotator, user, result)
            done += len(batch)
            batch = []
            report(0.5 + 0.5 * done / len(issues))
    if batch:
        write_batch(state, batch, mode, annotator, user, result)
    report(1.0)
    if result.changed:
        AuditEvent.objects.create(
            project=project,
            actor=user,
            kind="import",
            payload={
                "format": fmt,
                "labels": labels,
                "groups": rule.describe(),
                "summary": result.summary(),
            },
        )
    return result


def _annotator(project, username):
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not access.project_members(project).filter(user=user).exists():
        raise ImportFailed(
            f"'{username}' is not a member of project '{project.slug}'; add them first."
        )
    return user


def _records(source: Source, fmt: str, dimensions) -> Iterator[SourceRecord]:
    """The validated records of one file, read as a stream."""
    keys = [d.key for d in dimensions]
    required = [d.key for d in dimensions if d.required]
    try:
        size = source.size()
        if size > MAX_FILE_BYTES:
            raise ImportFailed(f"{source.name}: {too_big_message(size)}.")
        with source.open() as stream:
            objects = iter_objects(stream, fmt, source.name, size=size)
            for index, obj in enumerate(objects, start=1):
                yield parse_record(
                    obj, file=source.name, index=index, dimension_keys=keys, required=required
                )
    except DatasetError as error:
        raise ImportFailed(error.describe()) from None


def _category_ids(project, dimensions) -> dict:
    """{(dimension key, path parts): category id} of the project's codebook."""
    ids: dict[tuple, int] = {}
    by_id = {d.pk: d for d in dimensions}
    for category_id, dimension_id, path in access.project_categories(project).values_list(
        "id", "dimension_id", "path"
    ):
        parts = tuple(" ".join(p.split()) for p in path.split(PATH_SEPARATOR))
        ids[(by_id[dimension_id].key, parts)] = category_id
    return ids


class _Resolver:
    """A record's category path to its id, adding unknown paths when allowed."""

    def __init__(self, project, dimensions, ids, add, user, result):
        self.project, self.ids, self.add, self.user, self.result = project, ids, add, user, result
        self.dimension_by_key = {d.key: d for d in dimensions}
        self.dimension_id = {d.key: d.pk for d in dimensions}

    def __call__(self, record: SourceRecord, key: str, parts: tuple) -> int:
        found = self.ids.get((key, parts))
        if found is not None:
            return found
        if not self.add:
            raise ImportFailed(
                f"{record.file}, record {record.index}, field '{field_name(key)}': unknown "
                f"category '{join_path(parts)}' (not in the codebook; pass --add-categories "
                "to add it)"
            )
        _add_path(self.dimension_by_key[key], parts, self.ids, self.user, self.project, self.result)
        return self.ids[(key, parts)]


def _add_path(dimension, parts, ids, user, project, result):
    parent = None
    for depth in range(1, len(parts) + 1):
        prefix = parts[:depth]
        if (dimension.key, prefix) in ids:
            parent = Category.objects.get(pk=ids[(dimension.key, prefix)])
            continue
        category = Category(dimension=dimension, parent=parent, name=prefix[-1], depth=depth)
        category.path = category.compute_path()
        category.save()
        ids[(dimension.key, prefix)] = category.pk
        parent = category
        project.codebook_version += 1
        Project.objects.filter(pk=project.pk).update(codebook_version=project.codebook_version)
        CodebookChange.objects.create(
            project=project,
            version=project.codebook_version,
            kind=CodebookChange.Kind.ADD,
            payload={"dimension": dimension.key, "path": category.path, "source": "import"},
            user=user,
        )
        result.categories_added.append(f"{dimension.key}: {category.path}")
