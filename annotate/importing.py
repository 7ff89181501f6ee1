"""Importing labeled datasets (olf, JSONL, CSV) into a project, all or nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mining.models import GITHUB_SOURCE, Issue, ProjectRepository, Repository

from .adjudication import settle_if_complete
from .dataset_io import (
    FILE_SUFFIXES,
    FORMATS,
    MAX_FILE_BYTES,
    DatasetError,
    SourceRecord,
    field_name,
    join_path,
    parse_record,
    read_objects,
    too_big_message,
)
from .models import (
    PATH_SEPARATOR,
    Annotation,
    AnnotationLabel,
    Assignment,
    AuditEvent,
    Category,
    CodebookChange,
    FinalLabel,
    FinalRecordLabel,
    Item,
    Project,
)
from .services import ServiceError

LABEL_MODES = ("final", "none", "annotator:USERNAME")


class ImportFailed(ServiceError):
    """The import was refused; nothing was written. The message locates the problem."""


@dataclass
class Source:
    """One file's content and the name errors refer to it by."""

    name: str
    data: bytes


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
        sources.append(Source(name=str(path), data=path.read_bytes()))
    return sources


def parse_labels_option(labels: str) -> tuple[str, str | None]:
    """('final'|'none'|'annotator', username or None) from --labels."""
    if labels in ("final", "none"):
        return labels, None
    if labels.startswith("annotator:") and labels.split(":", 1)[1].strip():
        return "annotator", labels.split(":", 1)[1].strip()
    raise ImportFailed(f"--labels must be one of {', '.join(LABEL_MODES)}, not '{labels}'.")


@transaction.atomic
def import_dataset(
    *,
    project: Project,
    sources: list[Source],
    fmt: str = "olf",
    labels: str = "final",
    add_categories: bool = False,
    group: str | None = None,
    user=None,
) -> ImportResult:
    """Import failure records into `project` in one transaction.

    The first invalid record raises ImportFailed naming file, record, field and problem,
    and nothing is written. Idempotent: importing the same sources again changes nothing;
    a record that contradicts labels already stored is an error."""
    mode, username = parse_labels_option(labels)
    annotator = _annotator(project, username) if mode == "annotator" else None
    dimensions = list(project.dimensions.all())
    records = _parse(sources, fmt, dimensions)
    result = ImportResult(files=len(sources), records=len(records))
    by_link: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_link.setdefault(record.link.url, []).append(record)
    result.issues = len(by_link)
    category_ids = _resolve_categories(
        project, dimensions, records, add_categories, user, result, mode != "none"
    )
    items = _ensure_items(project, by_link, group, result)
    if mode == "final":
        _write_final(project, items, by_link, category_ids, dimensions, user, result)
    elif mode == "annotator":
        _write_annotations(project, items, by_link, category_ids, dimensions, annotator, result)
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


def _parse(sources, fmt, dimensions) -> list[SourceRecord]:
    keys = [d.key for d in dimensions]
    required = [d.key for d in dimensions if d.required]
    records = []
    try:
        for source in sources:
            for index, obj in enumerate(read_objects(source.data, fmt, source.name), start=1):
                records.append(
                    parse_record(
                        obj, file=source.name, index=index, dimension_keys=keys, required=required
                    )
                )
    except DatasetError as error:
        raise ImportFailed(error.describe()) from None
    if not records:
        raise ImportFailed("No records to import.")
    return records


def _resolve_categories(project, dimensions, records, add, user, result, needed) -> dict:
    """{(dimension key, path parts): category id}, adding unknown paths when allowed."""
    ids: dict[tuple, int] = {}
    by_id = {d.pk: d for d in dimensions}
    for category_id, dimension_id, path in Category.objects.filter(
        dimension__project=project
    ).values_list("id", "dimension_id", "path"):
        parts = tuple(" ".join(p.split()) for p in path.split(PATH_SEPARATOR))
        ids[(by_id[dimension_id].key, parts)] = category_id
    if not needed:
        return ids
    dimension_by_key = {d.key: d for d in dimensions}
    for record in records:
        for key, parts in record.paths.items():
            if (key, parts) in ids:
                continue
            if not add:
                raise ImportFailed(
                    f"{record.file}, record {record.index}, field '{field_name(key)}': unknown "
                    f"category '{join_path(parts)}' (not in the codebook; pass --add-categories "
                    "to add it)"
                )
            _add_path(dimension_by_key[key], parts, ids, user, project, result)
    return ids


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


def _ensure_items(project, by_link, group, result) -> dict[str, Item]:
    """Find or create the repositories, issues and items named by the links, in bulk. The
    links are github.com's: they resolve to github.com's rows, never to another source's
    (the demo's synthetic issues carry the same names). A repository new to the project
    gets the project's own group (`group`, default: its owner); an existing one keeps it."""
    firsts = {url: recs[0] for url, recs in by_link.items()}
    names = {(r.link.owner, r.link.name) for r in firsts.values()}
    repos = {
        (r.owner, r.name): r
        for r in Repository.objects.filter(
            source=GITHUB_SOURCE, owner__in={o for o, _ in names}, name__in={n for _, n in names}
        )
    }
    missing = [
        Repository(source=GITHUB_SOURCE, owner=o, name=n)
        for o, n in sorted(names)
        if (o, n) not in repos
    ]
    Repository.objects.bulk_create(missing)
    result.repositories_created = len(missing)
    repos.update({(r.owner, r.name): r for r in missing})
    seen = set(
        ProjectRepository.objects.filter(
            project=project, repository__in=list(repos.values())
        ).values_list("repository_id", flat=True)
    )
    ProjectRepository.objects.bulk_create(
        ProjectRepository(project=project, repository=r, group=group or r.owner)
        for r in repos.values()
        if r.pk not in seen
    )

    issues = {
        (i.repository_id, i.number): i
        for i in Issue.objects.filter(
            repository__in=list(repos.values()),
            number__in={r.link.number for r in firsts.values()},
        )
    }
    new_issues = []
    for record in firsts.values():
        repo = repos[(record.link.owner, record.link.name)]
        if (repo.pk, record.link.number) not in issues:
            issue = Issue(
                repository=repo,
                source=GITHUB_SOURCE,
                number=record.link.number,
                state=record.status,
                is_pull_request=record.link.is_pull_request,
                fetched=False,
            )
            issues[(repo.pk, record.link.number)] = issue
            new_issues.append(issue)
    Issue.objects.bulk_create(new_issues)
    result.issues_created = len(new_issues)

    issue_for = {
        url: issues[(repos[(r.link.owner, r.link.name)].pk, r.link.number)]
        for url, r in firsts.items()
    }
    items = {
        item.issue_id: item
        for item in Item.objects.filter(
            project=project, issue__in=[i.pk for i in issue_for.values()]
        )
    }
    position = (Item.objects.filter(project=project).aggregate(m=Max("position"))["m"] or 0) + 1
    new_items, changed = [], []
    for url, issue in issue_for.items():
        metadata = firsts[url].metadata
        item = items.get(issue.pk)
        if item is None:
            item = Item(project=project, issue=issue, position=position, metadata=dict(metadata))
            position += 1
            items[issue.pk] = item
            new_items.append(item)
        elif any(item.metadata.get(k) != v for k, v in metadata.items()):
            item.metadata = {**item.metadata, **metadata}
            changed.append(item)
    Item.objects.bulk_create(new_items)
    Item.objects.bulk_update(changed, ["metadata"])
    result.items_created = len(new_items)
    return {url: items[issue.pk] for url, issue in issue_for.items()}


def _signature(rows) -> tuple:
    """Failure records as a sorted tuple of (record, dimension id, category id)."""
    return tuple(sorted(rows))


def _wanted(records, dimensions, category_ids) -> list[tuple[int, int, int]]:
    key_to_id = {d.key: d.pk for d in dimensions}
    rows = []
    for index, record in enumerate(records):
        for key, parts in record.paths.items():
            rows.append((index, key_to_id[key], category_ids[(key, parts)]))
    return rows


def _conflict(record: SourceRecord, what: str) -> ImportFailed:
    return ImportFailed(
        f"{record.file}, record {record.index}, field 'link': {record.link.url} already has "
        f"{what} that differ from this file's; remove them first or import another project"
    )


def _write_final(project, items, by_link, category_ids, dimensions, user, result):
    existing: dict[int, set] = {}
    finals = FinalLabel.objects.filter(item__in=[i.pk for i in items.values()])
    for item_id in finals.values_list("item_id", flat=True):
        existing[item_id] = set()
    for item_id, record, dim, cat in FinalRecordLabel.objects.filter(
        item__in=list(existing)
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    new_finals, label_rows, settled = [], [], []
    for url, records in by_link.items():
        item = items[url]
        wanted = _wanted(records, dimensions, category_ids)
        if item.pk in existing:
            if _signature(existing[item.pk]) != _signature(wanted):
                raise _conflict(records[0], "final labels")
            continue
        final = FinalLabel(
            item=item,
            provenance=FinalLabel.Provenance.IMPORTED,
            codebook_version=project.codebook_version,
            decided_by=user,
        )
        new_finals.append(final)
        label_rows.append((final, item, wanted))
        settled.append(item.pk)
    FinalLabel.objects.bulk_create(new_finals)
    FinalRecordLabel.objects.bulk_create(
        FinalRecordLabel(final=final, item=item, record=r, dimension_id=d, category_id=c)
        for final, item, wanted in label_rows
        for r, d, c in wanted
    )
    Item.objects.filter(pk__in=settled).update(state=Item.State.SETTLED, settled_at=timezone.now())
    result.labels_written = len(new_finals)


def _write_annotations(project, items, by_link, category_ids, dimensions, annotator, result):
    item_ids = [i.pk for i in items.values()]
    existing: dict[int, set] = {
        item_id: set()
        for item_id in Annotation.objects.filter(
            item__in=item_ids, annotator=annotator
        ).values_list("item_id", flat=True)
    }
    for item_id, record, dim, cat in AnnotationLabel.objects.filter(
        item__in=list(existing), annotator=annotator
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    now = timezone.now()
    new_annotations, label_rows, touched = [], [], []
    for url, records in by_link.items():
        item = items[url]
        wanted = _wanted(records, dimensions, category_ids)
        if item.pk in existing:
            if _signature(existing[item.pk]) != _signature(wanted):
                raise _conflict(records[0], f"labels by {annotator.username}")
            continue
        annotation = Annotation(
            item=item, annotator=annotator, codebook_version=project.codebook_version
        )
        new_annotations.append(annotation)
        label_rows.append((annotation, item, wanted))
        touched.append(item)
    Annotation.objects.bulk_create(new_annotations)
    AnnotationLabel.objects.bulk_create(
        AnnotationLabel(
            annotation=annotation,
            item=item,
            annotator=annotator,
            record=r,
            dimension_id=d,
            category_id=c,
        )
        for annotation, item, wanted in label_rows
        for r, d, c in wanted
    )
    held = set(
        Assignment.objects.filter(
            item__in=[i.pk for i in touched], annotator=annotator
        ).values_list("item_id", flat=True)
    )
    Assignment.objects.filter(item__in=list(held), annotator=annotator).update(
        state=Assignment.State.SUBMITTED, completed_at=now
    )
    Assignment.objects.bulk_create(
        Assignment(
            item=item, annotator=annotator, state=Assignment.State.SUBMITTED, completed_at=now
        )
        for item in touched
        if item.pk not in held
    )
    for item in touched:
        item.assigned_count += int(item.pk not in held)
        item.submitted_count += 1
    Item.objects.bulk_update(touched, ["assigned_count", "submitted_count"])
    # Items now carrying `overlap` annotations are compared as if submitted in the browser.
    for item in touched:
        if item.submitted_count >= project.overlap:
            settle_if_complete(item=Item.objects.select_for_update().get(pk=item.pk))
    result.labels_written = len(new_annotations)
