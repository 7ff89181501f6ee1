"""REST resources of labels: the caller's annotations, everyone's (leads, under
pseudonyms while names are hidden) and the final labels."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import generics

from annotate.access import (
    MANAGERS,
    find_annotator,
    names_hidden_from,
    own_annotations,
    project_annotations,
    pseudonym,
    settled_final_labels,
)
from annotate.api import filters
from annotate.api.base import ProjectScoped, listing
from annotate.api.serializers import AnnotationSerializer, FinalLabelSerializer
from annotate.models import (
    Annotation,
    AnnotationLabel,
    FinalLabel,
    FinalRecordLabel,
)

LABELS = Prefetch(
    "labels", queryset=AnnotationLabel.objects.select_related("dimension", "category")
)


FINAL_LABELS = Prefetch(
    "labels", queryset=FinalRecordLabel.objects.select_related("dimension", "category")
)


@listing(AnnotationSerializer)
class MyAnnotationList(ProjectScoped, generics.ListAPIView):
    """The caller's own annotations: never anyone else's."""

    serializer_class = AnnotationSerializer
    filterset_class = filters.MyAnnotationFilter
    queryset = Annotation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Annotation.objects.none()
        return (
            own_annotations(self.project, self.request.user)
            .select_related("annotator")
            .prefetch_related(LABELS)
        )


@listing(AnnotationSerializer)
class AnnotationList(ProjectScoped, generics.ListAPIView):
    """Every annotation of the project: leads and owners only. With the project's
    `hide_annotator_names`, leads see pseudonyms."""

    roles = MANAGERS
    serializer_class = AnnotationSerializer
    filterset_class = filters.AnnotationFilter
    queryset = Annotation.objects.none()

    def get_queryset(self):
        if self.faking():
            return Annotation.objects.none()
        annotations = project_annotations(self.project)
        name = self.request.query_params.get("annotator")
        if name:
            annotator = find_annotator(self.project, self.membership, name)
            annotations = (
                annotations.filter(annotator=annotator) if annotator else annotations.none()
            )
        return annotations.select_related("annotator").prefetch_related(LABELS)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not self.faking() and names_hidden_from(self.project, self.membership):
            context["annotator_names"] = lambda user: pseudonym(self.project.pk, user.pk)
        return context


@listing(FinalLabelSerializer)
class FinalLabelList(ProjectScoped, generics.ListAPIView):
    """Final labels with provenance (settled items only)."""

    serializer_class = FinalLabelSerializer
    filterset_class = filters.FinalLabelFilter
    queryset = FinalLabel.objects.none()

    def get_queryset(self):
        if self.faking():
            return FinalLabel.objects.none()
        return (
            settled_final_labels(self.project)
            .select_related("item__issue__repository", "decided_by")
            .prefetch_related(FINAL_LABELS)
        )
