"""Label builders for the analysis tests: annotations and final labels written through the
ORM exactly as the labeling and adjudication services store them."""

import pytest

from annotate.models import (
    Annotation,
    AnnotationLabel,
    Category,
    FinalLabel,
    FinalRecordLabel,
    Item,
)
from tests.factories import IssueFactory, ItemFactory, RepositoryFactory


class LabelBuilder:
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

    def annotate(self, item, user, records, **fields):
        """records: list of {dimension key: category path}."""
        annotation = Annotation.objects.create(item=item, annotator=user, **fields)
        AnnotationLabel.objects.bulk_create(
            AnnotationLabel(
                annotation=annotation,
                item=item,
                annotator=user,
                record=index,
                dimension=self.dimensions[key],
                category=self.category(key, path),
            )
            for index, record in enumerate(records)
            for key, path in record.items()
        )
        return annotation

    def settle(self, item, records, provenance=FinalLabel.Provenance.IMPORTED):
        final = FinalLabel.objects.create(item=item, provenance=provenance)
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


@pytest.fixture
def labels(project):
    return LabelBuilder(project)


@pytest.fixture
def repos(db):
    return {
        "Qwen": RepositoryFactory(owner="QwenLM", name="Qwen", group="Qwen"),
        "Llama": RepositoryFactory(owner="meta-llama", name="llama", group="Llama"),
    }


def bulk_final_records(project, records):
    """Final labels for records in the study's format (dicts with link, SYMPTOM,
    ROOT CAUSE, STAGE, model, architecture, status), in a handful of bulk inserts. Records
    sharing a link become one item with several failure records."""
    from mining.models import Issue, ProjectRepository, Repository

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
