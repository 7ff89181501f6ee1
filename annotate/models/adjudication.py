"""Settling items: final labels and their records, conflicts, the audit trail, and the
rounds an annotation went through in discussion."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .codebook import Category, Dimension
from .labeling import Annotation, Item
from .projects import Project


class FinalLabel(models.Model):
    """An item's settled failure records (FinalRecordLabel rows), with provenance."""

    class Provenance(models.TextChoices):
        UNANIMOUS = "unanimous", "unanimous"
        ADJUDICATED = "adjudicated", "adjudicated"
        IMPORTED = "imported", "imported"

    class ErrorKind(models.TextChoices):
        NONE = "", "none"
        AMBIGUOUS = "ambiguous", "ambiguous issue"
        GUIDELINE_GAP = "guideline_gap", "guideline gap"
        SLIP = "slip", "annotator slip"
        CODEBOOK_GAP = "codebook_gap", "codebook gap"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="final_label")
    provenance = models.CharField(max_length=12, choices=Provenance.choices)
    out_of_scope = models.BooleanField(default=False)
    out_of_scope_reason = models.TextField(blank=True)
    rationale = models.TextField(blank=True)
    error_kind = models.CharField(max_length=15, choices=ErrorKind.choices, blank=True, default="")
    codebook_needs_work = models.BooleanField(default=False)
    codebook_version = models.PositiveIntegerField(default=1)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item"]


class FinalRecordLabel(models.Model):
    final = models.ForeignKey(FinalLabel, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="final_labels")

    class Meta:
        ordering = ["final", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["final", "record", "dimension"], name="final_record_label_unique"
            )
        ]
        indexes = [models.Index(fields=["dimension", "category"])]


class AuditEvent(models.Model):
    """Append-only trail of every label, decision and codebook change."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_events")
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]


class ConflictQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved=False)

    def between(self, first_id, second_id):
        """Conflicts whose two sides are these categories, in either order."""
        return self.filter(
            Q(category_a_id=first_id, category_b_id=second_id)
            | Q(category_a_id=second_id, category_b_id=first_id)
        )


class Conflict(models.Model):
    """One difference between an item's annotations (a dimension at one level of one failure
    record, the number of records, or out of scope), kept so that the conflict queue can be
    filtered by dimension and by the pair of categories in conflict."""

    class Kind(models.TextChoices):
        CATEGORY = "category", "category"
        RECORDS = "records", "number of failure records"
        SCOPE = "scope", "out of scope"
        CODEBOOK = "codebook", "codebook change"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="conflicts")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CATEGORY)
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # 1 = top level of the category tree; 0 when the difference is not about a category.
    level = models.PositiveSmallIntegerField(default=0)
    # The two sides' categories at `level` (an ancestor of what each annotator chose);
    # empty when a side has no category that deep.
    category_a = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category_b = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["project", "resolved", "dimension"]),
            models.Index(fields=["item", "resolved"]),
        ]


class AnnotationRound(models.Model):
    """A frozen copy of an annotation as it stood when its item went to discussion, so that
    agreement before and after discussion can both be reported."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="rounds")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotation_rounds")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    round = models.PositiveSmallIntegerField(default=1)
    out_of_scope = models.BooleanField(default=False)
    out_of_scope_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    codebook_version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "round", "annotator_id"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "round"], name="annotation_round_unique")
        ]


class AnnotationRoundLabel(models.Model):
    """One category of a frozen annotation round (mirrors AnnotationLabel)."""

    snapshot = models.ForeignKey(AnnotationRound, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="round_labels")
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["snapshot", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "record", "dimension"], name="annotation_round_label_unique"
            )
        ]
