"""Labeled data built the way the labeling and adjudication services store it, shared by the
tests: an annotation with its labels, a pair of annotations that agree or disagree, a settled
item, and a study's worth of final labels in bulk. Row-level pieces are in tests/factories.py.

A record is {dimension key: category path}; several records are several failures. `wire`
spells one in the API's one record shape (annotate.records), for a decision or a submission."""

from annotate.adjudication.settling import settle_if_complete
from annotate.models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Category,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from mining.models import Issue, ProjectRepository, Repository

from .factories import (
    AnnotationFactory,
    AssignmentFactory,
    FinalLabelFactory,
    IssueFactory,
    ItemFactory,
)

OOM = "Crash > CUDA Error > Out of Memory"
DEVICE = "Crash > CUDA Error > Device Error"
ASSERTION = "Crash > Assertion Failure"
HANG = "Hang > Generation Process Stuck"
GPU_MEMORY = "Hardware and Resource Limitations > GPU Memory Insufficiency"
CPU_MEMORY = "Hardware and Resource Limitations > CPU Memory Limitation"
CALL_ORDER = "API Usage and Interface Issues > Call Sequence Error"


def record(symptom=OOM, root_cause=GPU_MEMORY, stage="Inference") -> dict:
    return {"symptom": symptom, "root_cause": root_cause, "stage": stage}


def wire(paths: dict) -> dict:
    """A record() in the API's one record shape, each category named by its path."""
    return {"labels": [{"dimension": key, "category": path} for key, path in paths.items()]}


def paths(records: list[dict]) -> list[dict]:
    """Records in the one record shape as record()s: {dimension key: category path}."""
    return [{label["dimension"]: label["path"] for label in r["labels"]} for r in records]


def category(project, key: str, path: str) -> Category:
    return Category.objects.get(dimension__project=project, dimension__key=key, path=path)


class LabelBuilder:
    """Labels of one project, its dimensions and categories looked up once for many writes."""

    def __init__(self, project):
        self.project = project
        self.dimensions = {d.key: d for d in project.dimensions.all()}
        self.categories = {
            (c.dimension.key, c.path): c
            for c in Category.objects.filter(dimension__project=project).select_related("dimension")
        }

    def category(self, key, path):
        return self.categories[(key, path)]

    def item(self, repo=None, **fields):
        if repo is not None:
            issue = IssueFactory(repository=repo)
            return ItemFactory(project=self.project, issue=issue, **fields)
        return ItemFactory(project=self.project, **fields)

    def annotate(self, item, user, records, *, evidence=None, **fields):
        """An annotation of `records`; `evidence(key)` gives each label's quote (none when
        not given). Other fields go to the annotation."""
        annotation = AnnotationFactory(item=item, annotator=user, **fields)
        self.relabel(annotation, records, evidence=evidence)
        return annotation

    def relabel(self, annotation, records, *, evidence=None):
        """Replace the annotation's labels with `records`."""
        AnnotationLabel.objects.filter(annotation=annotation).delete()
        AnnotationLabel.objects.bulk_create(
            AnnotationLabel(
                annotation=annotation,
                item=annotation.item,
                annotator=annotation.annotator,
                record=index,
                dimension=self.dimensions[key],
                category=self.category(key, path),
                evidence=evidence(key) if evidence else "",
            )
            for index, record in enumerate(records)
            for key, path in record.items()
        )

    def settle(self, item, records, provenance=FinalLabel.Provenance.IMPORTED, **fields):
        """The item's final label of `records`, and the item settled."""
        final = FinalLabelFactory(item=item, provenance=provenance, **fields)
        FinalRecordLabel.objects.bulk_create(
            FinalRecordLabel(
                final=final,
                item=item,
                record=index,
                dimension=self.dimensions[key],
                category=self.category(key, path),
            )
            for index, record in enumerate(records)
            for key, path in record.items()
        )
        Item.objects.filter(pk=item.pk).update(state=Item.State.SETTLED)
        return final


def quote(key: str) -> str:
    return f"quote for {key}"


def submit(item, user, records=None, *, out_of_scope=False, note="", confidence=None):
    """One annotator's submission (assignment submitted, annotation, labels with evidence),
    written with the ORM as the labeling service would; `records` default to one record()."""
    if not Assignment.objects.filter(item=item, annotator=user).exists():
        AssignmentFactory(item=item, annotator=user, state=Assignment.State.SUBMITTED)
    return LabelBuilder(item.project).annotate(
        item,
        user,
        [] if out_of_scope else (records or [record()]),
        evidence=quote,
        out_of_scope=out_of_scope,
        out_of_scope_reason="not a failure" if out_of_scope else "",
        note=note,
        confidence=confidence,
    )


def relabel(annotation: Annotation, records) -> None:
    """Replace a submission's labels (evidence as submit() writes it)."""
    LabelBuilder(annotation.item.project).relabel(annotation, records, evidence=quote)


def revise(item, user, records) -> str:
    """The annotator re-submits `records` (as after a discussion); the item is compared
    again. Returns its state."""
    annotation = Annotation.objects.get(item=item, annotator=user)
    relabel(annotation, records)
    annotation.save()  # bumps updated_at, as a re-submission does
    return settle_if_complete(item=Item.objects.get(pk=item.pk))


def label_both(item, cast, a_records=None, b_records=None, *, a_out=False, b_out=False) -> str:
    """Both annotators submit; then the item is compared. Returns the resulting state."""
    submit(item, cast["annotator_a"], a_records, out_of_scope=a_out, note="A's note")
    submit(item, cast["annotator_b"], b_records, out_of_scope=b_out, note="B's note")
    return settle_if_complete(item=Item.objects.get(pk=item.pk))


def in_conflict(project, cast, a_records=None, b_records=None, **kwargs) -> Item:
    """A new item the two annotators labeled differently, in conflict."""
    item = ItemFactory(project=project)
    assert label_both(item, cast, a_records, b_records, **kwargs) == Item.State.CONFLICT
    return Item.objects.get(pk=item.pk)


def annotate_symptom(item, user, symptom, stage="Inference", out_of_scope=False):
    """An annotation of one record with only a symptom and a stage (no root cause), and no
    assignment: enough for the exports, which list what each annotator said."""
    records = [] if out_of_scope else [{"symptom": symptom, "stage": stage}]
    return LabelBuilder(item.project).annotate(item, user, records, out_of_scope=out_of_scope)


def bulk_final_records(project, records):
    """Final labels for records in the study's format (dicts with link, SYMPTOM,
    ROOT CAUSE, STAGE, model, architecture, status), in a handful of bulk inserts. Records
    sharing a link become one item with several failure records."""
    dims = {d.key: d for d in project.dimensions.all()}
    cats = {
        (c.dimension_id, c.path): c.pk for c in Category.objects.filter(dimension__project=project)
    }
    by_link: dict[str, list] = {}
    for record in records:
        by_link.setdefault(record["link"], []).append(record)
    repos = {}
    for link in by_link:
        owner, name = link.split("/")[3:5]
        if (owner, name) not in repos:
            repos[(owner, name)] = Repository.objects.get_or_create(owner=owner, name=name)[0]
            ProjectRepository.objects.get_or_create(
                project=project, repository=repos[(owner, name)], defaults={"group": owner}
            )
    issues = Issue.objects.bulk_create(
        Issue(
            repository=repos[tuple(link.split("/")[3:5])],
            number=int(link.rstrip("/").split("/")[-1]),
            state=recs[0].get("status", "closed"),
        )
        for link, recs in by_link.items()
    )
    items = Item.objects.bulk_create(
        Item(
            project=project,
            issue=issue,
            position=i,
            state=Item.State.SETTLED,
            metadata={"model": recs[0]["model"], "architecture": recs[0]["architecture"]},
        )
        for i, (issue, recs) in enumerate(zip(issues, by_link.values(), strict=True))
    )
    finals = FinalLabel.objects.bulk_create(
        FinalLabel(item=item, provenance=FinalLabel.Provenance.IMPORTED) for item in items
    )
    fields = [("symptom", "SYMPTOM"), ("root_cause", "ROOT CAUSE"), ("stage", "STAGE")]
    rows = []
    for final, recs in zip(finals, by_link.values(), strict=True):
        for index, record in enumerate(recs):
            for key, field in fields:
                path = " > ".join(part.strip() for part in record[field].split(" - "))
                rows.append(
                    FinalRecordLabel(
                        final=final,
                        item_id=final.item_id,
                        record=index,
                        dimension=dims[key],
                        category_id=cats[(dims[key].pk, path)],
                    )
                )
    FinalRecordLabel.objects.bulk_create(rows, batch_size=2000)
    return items
