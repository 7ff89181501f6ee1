"""django-filter FilterSets of the generic REST resources."""

import django_filters
from django.db.models import Exists, F, OuterRef, Q

from annotate.browse.search import MAX_LENGTH as SEARCH_MAX_LENGTH
from annotate.browse.search import search_items
from annotate.labeling.shown import ITEM_STATES_SHOWN
from annotate.models import PATH_SEPARATOR, Annotation, FinalLabel, FinalRecordLabel, Item
from mining.models import Issue


def category_prefix(value: str) -> str:
    """A category path in either spelling ('Crash > CUDA Error' or 'Crash - CUDA Error')."""
    parts = [" ".join(part.split()) for part in value.replace(" - ", PATH_SEPARATOR).split(">")]
    return PATH_SEPARATOR.join(part for part in parts if part)


def labels_under(value: str):
    """Final record labels whose category is `value` or below it, at any level."""
    prefix = category_prefix(value)
    return FinalRecordLabel.objects.filter(
        Q(category__path=prefix) | Q(category__path__startswith=prefix + PATH_SEPARATOR)
    )


def split_repository(value: str):
    owner, _, name = value.partition("/")
    return owner, name


class IssueFilter(django_filters.FilterSet):
    repository = django_filters.CharFilter(method="filter_repository", help_text="OWNER/NAME")
    # IssueList annotates `project_group`: the caller's project's group of the repository.
    group = django_filters.CharFilter(field_name="project_group")
    state = django_filters.ChoiceFilter(choices=Issue.State.choices)
    fetched = django_filters.BooleanFilter()

    class Meta:
        model = Issue
        fields = ["repository", "group", "state", "fetched", "number"]

    def filter_repository(self, queryset, name, value):
        owner, repo = split_repository(value)
        return queryset.filter(repository__owner=owner, repository__name=repo)


class ItemFilter(django_filters.FilterSet):
    # Items are listed annotated with `shown_state` (annotate.labeling.shown): the filter
    # matches what the caller sees, never a state hidden from them.
    state = django_filters.ChoiceFilter(
        choices=ITEM_STATES_SHOWN,
        field_name="shown_state",
        help_text="The state as the caller sees it (annotators: `submitted`, never `conflict`).",
    )
    repository = django_filters.CharFilter(method="filter_repository", help_text="OWNER/NAME")
    group = django_filters.CharFilter(method="filter_group")
    settled = django_filters.BooleanFilter(method="filter_settled")
    edited_since_labeling = django_filters.BooleanFilter()
    category = django_filters.CharFilter(
        method="filter_category",
        help_text="A category path prefix on the final labels, at any level: 'Crash' or "
        "'Crash > CUDA Error' (' - ' also accepted).",
    )
    dimension = django_filters.CharFilter(
        method="filter_noop", help_text="Restrict `category` to this dimension key."
    )
    q = django_filters.CharFilter(
        method="filter_q",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Full-text search over the issue's title, body and comments (web search "
        'syntax: words, "a phrase", or, -word; English stemming). Only issues whose text '
        "the project may read match. Results stay in id order (the cursor's).",
    )

    class Meta:
        model = Item
        fields = ["state", "repository", "group", "settled", "edited_since_labeling", "batch"]

    def filter_repository(self, queryset, name, value):
        owner, repo = split_repository(value)
        return queryset.filter(issue__repository__owner=owner, issue__repository__name=repo)

    def filter_group(self, queryset, name, value):
        # The item's own project's group (one join: both conditions in one filter()).
        return queryset.filter(
            issue__repository__views__project=F("project"), issue__repository__views__group=value
        )

    def filter_settled(self, queryset, name, value):
        if value:
            return queryset.filter(state=Item.State.SETTLED)
        return queryset.exclude(state=Item.State.SETTLED)

    def filter_category(self, queryset, name, value):
        labels = labels_under(value).filter(item=OuterRef("pk"))
        dimension = self.data.get("dimension")
        if dimension:
            labels = labels.filter(dimension__key=dimension)
        # Final labels are read only on settled items: nothing leaks about open ones.
        return queryset.filter(Exists(labels), state=Item.State.SETTLED)

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_q(self, queryset, name, value):
        if "\x00" in value:  # PostgreSQL refuses NUL in text; no document holds one
            return queryset.none()
        return search_items(queryset, value)


class AnnotationFilter(django_filters.FilterSet):
    # Resolved by the view through access.find_annotator: a pseudonym while the project
    # hides annotator names from the caller.
    annotator = django_filters.CharFilter(
        method="filter_noop",
        help_text="A username, or the annotator's pseudonym (only that while the project "
        "hides annotator names from you).",
    )
    item = django_filters.NumberFilter(field_name="item_id")
    out_of_scope = django_filters.BooleanFilter()

    class Meta:
        model = Annotation
        fields = ["item", "annotator", "round", "out_of_scope"]

    def filter_noop(self, queryset, name, value):
        return queryset


class MyAnnotationFilter(django_filters.FilterSet):
    item = django_filters.NumberFilter(field_name="item_id")

    class Meta:
        model = Annotation
        fields = ["item", "round", "out_of_scope"]


class FinalLabelFilter(django_filters.FilterSet):
    provenance = django_filters.ChoiceFilter(choices=FinalLabel.Provenance.choices)
    item = django_filters.NumberFilter(field_name="item_id")
    repository = django_filters.CharFilter(method="filter_repository", help_text="OWNER/NAME")
    group = django_filters.CharFilter(method="filter_group")
    category = django_filters.CharFilter(
        method="filter_category", help_text="A category path prefix, at any level."
    )

    class Meta:
        model = FinalLabel
        fields = ["provenance", "item", "out_of_scope", "repository", "group", "category"]

    def filter_repository(self, queryset, name, value):
        owner, repo = split_repository(value)
        return queryset.filter(
            item__issue__repository__owner=owner, item__issue__repository__name=repo
        )

    def filter_group(self, queryset, name, value):
        return queryset.filter(
            item__issue__repository__views__project=F("item__project"),
            item__issue__repository__views__group=value,
        )

    def filter_category(self, queryset, name, value):
        return queryset.filter(Exists(labels_under(value).filter(final=OuterRef("pk"))))
