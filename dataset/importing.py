"""Importing labeled datasets (olf, JSONL, CSV) into a project, all or nothing."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max

from annotate.bulk import copy_models
from annotate.errors import ServiceError
from annotate.models import (
    PATH_SEPARATOR,
    AuditEvent,
    Category,
    CodebookChange,
    Item,
    Project,
)
from dataset.formats import (
    FILE_SUFFIXES,
    FORMATS,
    MAX_FILE_BYTES,
    DatasetError,
    IssueLink,
    SourceRecord,
    field_name,
    iter_objects,
    join_path,
    parse_record,
    too_big_message,
)
from dataset.import_labels import write_annotations, write_final
from mining.models import GITHUB_SOURCE, Issue, ProjectRepository, Repository

LABEL_MODES = ("final", "none", "annotator:USERNAME")


class ImportFailed(ServiceError):
    """The import was refused; nothing was written. The message locates the problem."""


@dataclass
class Source:
    """One file, in memory (`data`) or on disk (`path`), and the name errors refer to it by.
    Read as a stream either way."""

    name: str
    data: bytes | None = None
    path: Path | None = None

    def size(self) -> int:
        return len(self.data) if self.data is not None else os.stat(self.path).st_size

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


@dataclass
class ImportResult:
    files: int = 0
    records: int = 0
    issues: int = 0
    repositories_created: int = 0
    issues_created: int = 0
    items_created: int = 0
    labels_written: int = 0
    categories_added: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.repositories_created
            or self.issues_created
            or self.items_created
            or self.labels_written
            or self.categories_added
        )

    def summary(self) -> str:
        text = (
            f"{self.records} records on {self.issues} issues from {self.files} file(s): "
            f"{self.repositories_created} repositories, {self.issues_created} issues, "
            f"{self.items_created} items created; {self.labels_written} labeled items written"
        )
        if self.categories_added:
            text += f"; categories added: {', '.join(self.categories_added)}"
        return text


def collect_sources(paths: list[str | Path], fmt: str) -> list[Source]:
    """Read the files named by `paths`; folders are searched recursively for the format's
    suffixes (names may contain or end in spaces). Oversized files are refused unread."""
    if fmt not in FORMATS:
        raise ImportFailed(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    files: list[Path] = []
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
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ImportFailed(f"{path}: no such file or folder.")
    sources = []
    for path in files:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailed(f"{path}: {too_big_message(size)}.")
        sources.append(Source(name=str(path), path=path))
    return sources


def parse_labels_option(labels: str) -> tuple[str, str | None]:
    """('final'|'none'|'annotator', username or None) from --labels."""
    if labels in ("final", "none"):
        return labels, None
    if labels.startswith("annotator:") and labels.split(":", 1)[1].strip():
        return "annotator", labels.split(":", 1)[1].strip()
    raise ImportFailed(f"--labels must be one of {', '.join(LABEL_MODES)}, not '{labels}'.")


# Rows written per statement: every query and insert of an import covers at most this many
# issues (a few times as many label rows), however large the files.
BATCH = 2000


@dataclass(slots=True)
class _Issue:
    """What the files say about one issue: its first record's place and its failure
    records as (record, dimension id, category id) rows."""

    link: IssueLink
    status: str
    metadata: dict
    file: str
    index: int
    rows: list = field(default_factory=list)
    records: int = 0


Progress = Callable[[float], None]


def import_dataset(
    *,
    project: Project,
    sources: list[Source],
    fmt: str = "olf",
    labels: str = "final",
    add_categories: bool = False,
    group: str | None = None,
    user=None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import failure records into `project` in one transaction.

    The files are read as streams and written in batches of BATCH issues, so memory and
    every statement stay bounded. The first invalid record raises ImportFailed naming file,
    record, field and problem, and nothing is written. Imports into one project take turns
    (a row lock on the project). Idempotent: importing the same sources again changes
    nothing; a record that contradicts labels already stored is an error."""
    report = progress or (lambda fraction: None)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each batch's statements name up to BATCH ids; PostgreSQL's JIT compiles such
            # statements for longer than they run (seconds per batch at 100,000 records).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        Project.objects.select_for_update().filter(pk=project.pk).first()
        project.refresh_from_db(fields=["codebook_version"])
        return _import(project, sources, fmt, labels, add_categories, group, user, report)


def _import(project, sources, fmt, labels, add_categories, group, user, report):
    mode, username = parse_labels_option(labels)
    annotator = _annotator(project, username) if mode == "annotator" else None
    dimensions = list(project.dimensions.all())
    result = ImportResult(files=len(sources))
    category_ids = _category_ids(project, dimensions)
    issues: dict[str, _Issue] = {}
    resolve = _Resolver(project, dimensions, category_ids, add_categories, user, result)
    for number, source in enumerate(sources):
        for record in _records(source, fmt, dimensions):
            result.records += 1
            issue = issues.get(record.link.url)
            if issue is None:
                issue = _Issue(
                    record.link, record.status, record.metadata, record.file, record.index
                )
                issues[record.link.url] = issue
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
    state = _WriteState(project, group)
    batch: list[_Issue] = []
    done = 0
    for issue in issues.values():
        batch.append(issue)
        if len(batch) == BATCH:
            _write_batch(state, batch, mode, annotator, user, result)
            done += len(batch)
            batch = []
            report(0.5 + 0.5 * done / len(issues))
    if batch:
        _write_batch(state, batch, mode, annotator, user, result)
    report(1.0)
    if result.changed:
        AuditEvent.objects.create(
            project=project,
            actor=user,
            kind="import",
            payload={"format": fmt, "labels": labels, "summary": result.summary()},
        )
    return result


def _annotator(project, username):
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not project.memberships.filter(user=user).exists():
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
    for category_id, dimension_id, path in Category.objects.filter(
        dimension__project=project
    ).values_list("id", "dimension_id", "path"):
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


class _WriteState:
    """What the batches of one import share: repositories seen so far, the next position."""

    def __init__(self, project, group):
        self.project = project
        self.group = group
        self.repos: dict[tuple[str, str], Repository] = {}
        top = Item.objects.filter(project=project).aggregate(m=Max("position"))["m"]
        self.position = (top or 0) + 1


def _write_batch(state, batch, mode, annotator, user, result):
    items = _ensure_items(state, batch, result)
    if mode == "final":
        write_final(state.project, items, batch, user, result)
    elif mode == "annotator":
        write_annotations(state.project, items, batch, annotator, result)


def _ensure_items(state, batch: list[_Issue], result) -> list[Item]:
    """The items of a batch's issues (in batch order), creating repositories, issues and
    items that are missing."""
    project = state.project
    names = {(i.link.owner, i.link.name) for i in batch} - set(state.repos)
    if names:
        # The links are github.com's: they resolve to github.com's rows, never to another
        # source's (the demo's synthetic issues carry the same names).
        found_repos = {
            (r.owner, r.name): r
            for r in Repository.objects.filter(
                source=GITHUB_SOURCE,
                owner__in={o for o, _ in names},
                name__in={n for _, n in names},
            )
            if (r.owner, r.name) in names
        }
        missing = [
            Repository(source=GITHUB_SOURCE, owner=o, name=n)
            for o, n in sorted(names)
            if (o, n) not in found_repos
        ]
        Repository.objects.bulk_create(missing)
        result.repositories_created += len(missing)
        found_repos.update({(r.owner, r.name): r for r in missing})
        # A repository new to the project gets the project's own group (`group`, default:
        # its owner); one the project already has keeps it.
        seen = set(
            ProjectRepository.objects.filter(
                project=project, repository__in=list(found_repos.values())
            ).values_list("repository_id", flat=True)
        )
        ProjectRepository.objects.bulk_create(
            ProjectRepository(project=project, repository=r, group=state.group or r.owner)
            for r in found_repos.values()
            if r.pk not in seen
        )
        state.repos.update(found_repos)

    def repo_of(issue):
        return state.repos[(issue.link.owner, issue.link.name)]

    found = {
        (i.repository_id, i.number): i
        for i in Issue.objects.filter(
            repository__in={repo_of(i).pk for i in batch},
            number__in={i.link.number for i in batch},
        )
    }
    new_issues = []
    for issue in batch:
        key = (repo_of(issue).pk, issue.link.number)
        if key not in found:
            found[key] = Issue(
                repository=repo_of(issue),
                source=GITHUB_SOURCE,
                number=issue.link.number,
                state=issue.status,
                is_pull_request=issue.link.is_pull_request,
                fetched=False,
            )
            new_issues.append(found[key])
    copy_models(Issue, new_issues)
    result.issues_created += len(new_issues)

    issue_rows = [found[(repo_of(i).pk, i.link.number)] for i in batch]
    existing = {
        item.issue_id: item
        for item in Item.objects.filter(project=project, issue__in=[i.pk for i in issue_rows])
    }
    items, new_items, changed = [], [], []
    for issue, row in zip(batch, issue_rows, strict=True):
        item = existing.get(row.pk)
        if item is None:
            item = Item(
                project=project, issue=row, position=state.position, metadata=dict(issue.metadata)
            )
            state.position += 1
            existing[row.pk] = item
            new_items.append(item)
        elif any(item.metadata.get(k) != v for k, v in issue.metadata.items()):
            item.metadata = {**item.metadata, **issue.metadata}
            changed.append(item)
        items.append(item)
    copy_models(Item, new_items)
    Item.objects.bulk_update(changed, ["metadata"])
    result.items_created += len(new_items)
    return items
