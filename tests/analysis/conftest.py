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
