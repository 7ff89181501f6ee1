"""Writing an import's batches: items for the issues (created, or matched to the project's
existing ones), then final labels or one annotator's annotations, with COPY; every
refusal is an ImportFailed that names the issue, so the whole import rolls back."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F, Max
from django.utils import timezone

from annotate import access
from annotate.adjudication.settling import settle_if_complete
from annotate.bulk import copy_models, copy_rows
from annotate.errors import ServiceError
from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from dataset.formats import (
    IssueLink,
)
from mining.models import GITHUB_SOURCE, Issue, ProjectRepository, Repository


class ImportFailed(ServiceError):
    """The import was refused; nothing was written. The message locates the problem."""


@dataclass
class ImportResult:
    files: int = 0
    records: int = 0
    issues: int = 0
    repositories_created: int = 0
    issues_created: int = 0
    items_created: int = 0
    labels_written: int = 0
    groups_changed: int = 0
    categories_added: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.repositories_created
            or self.issues_created
            or self.items_created
            or self.labels_written
            or self.groups_changed
            or self.categories_added
        )

    def summary(self) -> str:
        text = (
            f"{self.records} records on {self.issues} issues from {self.files} file(s): "
            f"{self.repositories_created} repositories, {self.issues_created} issues, "
            f"{self.items_created} items created; {self.labels_written} labeled items written"
        )
        if self.groups_changed:
            plural = "s" if self.groups_changed != 1 else ""
            text += f"; {self.groups_changed} repository group{plural} changed by the map"
        if self.categories_added:
            text += f"; categories added: {', '.join(self.categories_added)}"
        return text


# Rows written per statement: every query and insert of an import covers at most this many
# issues (a few times as many label rows), however large the files.
BATCH = 2000


@dataclass(slots=True)
class PendingIssue:
    """What the files say about one issue: its first record's place and its failure
    records as (record, dimension id, category id) rows."""

    link: IssueLink
    status: str
    metadata: dict
    file: str
    index: int
    rows: list = field(default_factory=list)
    records: int = 0
    # [file inside the imported folder, the record's `number` there] per failure record:
    # where the record came from, so that an export can put it back (the study's layout).
    origins: list = field(default_factory=list)

    @property
    def item_metadata(self) -> dict:
        return {**self.metadata, "origin": self.origins}


class WriteState:
    """What the batches of one import share: each repository's group (by the import's
    rule), repositories seen so far, the next position."""

    def __init__(self, project, groups: dict, rule):
        self.project = project
        self.groups = groups
        self.rule = rule
        self.repos: dict[tuple[str, str], Repository] = {}
        top = access.project_items(project).aggregate(m=Max("position"))["m"]
        self.position = (top or 0) + 1


def write_batch(state, batch, mode, annotator, user, result):
    items = _ensure_items(state, batch, result)
    if mode == "final":
        _write_final(state.project, items, batch, user, result)
    elif mode == "annotator":
        _write_annotations(state.project, items, batch, annotator, result)


def _ensure_items(state, batch: list[PendingIssue], result) -> list[Item]:
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
        # A repository new to the project gets the group the import's rule gives it; one
        # the project already has keeps its group unless the rule's map names it.
        views = access.all_repository_views(project).filter(
            repository__in=list(found_repos.values())
        )
        seen = {view.repository_id: view for view in views}
        ProjectRepository.objects.bulk_create(
            ProjectRepository(project=project, repository=r, group=state.groups[key])
            for key, r in found_repos.items()
            if r.pk not in seen
        )
        remapped = []
        for key, r in found_repos.items():
            view = seen.get(r.pk)
            if view is not None and state.rule.mapped(*key) and view.group != state.groups[key]:
                view.group = state.groups[key]
                remapped.append(view)
        ProjectRepository.objects.bulk_update(remapped, ["group"])
        result.groups_changed += len(remapped)
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
        for item in access.project_items(project).filter(issue__in=[i.pk for i in issue_rows])
    }
    items, new_items, changed = [], [], []
    for issue, row in zip(batch, issue_rows, strict=True):
        item = existing.get(row.pk)
        if item is None:
            item = Item(
                project=project, issue=row, position=state.position, metadata=issue.item_metadata
            )
            state.position += 1
            existing[row.pk] = item
            new_items.append(item)
        elif any(item.metadata.get(k) != v for k, v in issue.item_metadata.items()):
            item.metadata = {**item.metadata, **issue.item_metadata}
            changed.append(item)
        items.append(item)
    copy_models(Item, new_items)
    Item.objects.bulk_update(changed, ["metadata"])
    result.items_created += len(new_items)
    return items


def _conflict(issue: PendingIssue, what: str) -> ImportFailed:
    return ImportFailed(
        f"{issue.file}, record {issue.index}, field 'link': {issue.link.url} already has "
        f"{what} that differ from this file's; remove them first or import another project"
    )


def _write_final(project, items, batch, user, result):
    existing: dict[int, set] = {
        item_id: set()
        for item_id in FinalLabel.objects.filter(item__in=[i.pk for i in items]).values_list(
            "item_id", flat=True
        )
    }
    for item_id, record, dim, cat in FinalRecordLabel.objects.filter(
        item__in=list(existing)
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    new_finals, label_rows, settled = [], [], []
    for issue, item in zip(batch, items, strict=True):
        if item.pk in existing:
            if sorted(existing[item.pk]) != sorted(issue.rows):
                raise _conflict(issue, "final labels")
            continue
        final = FinalLabel(
            item=item,
            provenance=FinalLabel.Provenance.IMPORTED,
            codebook_version=project.codebook_version,
            decided_by=user,
        )
        new_finals.append(final)
        label_rows.append((final, item, issue.rows))
        settled.append(item.pk)
    copy_models(FinalLabel, new_finals)
    copy_rows(
        FinalRecordLabel,
        ["final_id", "item_id", "record", "dimension_id", "category_id"],
        [(final.pk, item.pk, r, d, c) for final, item, rows in label_rows for r, d, c in rows],
    )
    Item.objects.filter(pk__in=settled).update(state=Item.State.SETTLED, settled_at=timezone.now())
    result.labels_written += len(new_finals)


def _write_annotations(project, items, batch, annotator, result):
    existing: dict[int, set] = {
        item_id: set()
        for item_id in Annotation.objects.filter(
            item__in=[i.pk for i in items], annotator=annotator
        ).values_list("item_id", flat=True)
    }
    for item_id, record, dim, cat in AnnotationLabel.objects.filter(
        item__in=list(existing), annotator=annotator
    ).values_list("item_id", "record", "dimension_id", "category_id"):
        existing[item_id].add((record, dim, cat))
    now = timezone.now()
    new_annotations, label_rows, touched = [], [], []
    for issue, item in zip(batch, items, strict=True):
        if item.pk in existing:
            if sorted(existing[item.pk]) != sorted(issue.rows):
                raise _conflict(issue, f"labels by {annotator.username}")
            continue
        annotation = Annotation(
            item=item, annotator=annotator, codebook_version=project.codebook_version
        )
        new_annotations.append(annotation)
        label_rows.append((annotation, item, issue.rows))
        touched.append(item)
    copy_models(Annotation, new_annotations)
    copy_rows(
        AnnotationLabel,
        ["annotation_id", "item_id", "annotator_id", "record", "dimension_id", "category_id",
         "evidence"],
        [
            (annotation.pk, item.pk, annotator.pk, r, d, c, "")
            for annotation, item, rows in label_rows
            for r, d, c in rows
        ],
    )  # fmt: skip
    touched_ids = [item.pk for item in touched]
    held = set(
        Assignment.objects.filter(item__in=touched_ids, annotator=annotator).values_list(
            "item_id", flat=True
        )
    )
    Assignment.objects.filter(item__in=list(held), annotator=annotator).update(
        state=Assignment.State.SUBMITTED, completed_at=now
    )
    copy_models(
        Assignment,
        [
            Assignment(
                item=item, annotator=annotator, state=Assignment.State.SUBMITTED, completed_at=now
            )
            for item in touched
            if item.pk not in held
        ],
    )
    # Two plain UPDATEs per batch: a bulk_update over every item is one CASE per row, a
    # statement PostgreSQL's JIT compiled for minutes at 10,000 items.
    Item.objects.filter(pk__in=list(held)).update(submitted_count=F("submitted_count") + 1)
    Item.objects.filter(pk__in=[pk for pk in touched_ids if pk not in held]).update(
        assigned_count=F("assigned_count") + 1, submitted_count=F("submitted_count") + 1
    )
    # Items now carrying `overlap` annotations are compared as if submitted in the browser.
    for item in touched:
        if item.submitted_count + 1 >= project.overlap:
            settle_if_complete(item=Item.objects.select_for_update().get(pk=item.pk))
    result.labels_written += len(new_annotations)
