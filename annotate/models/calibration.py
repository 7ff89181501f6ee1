"""Calibration of new coders (issue #17): the lead's gold set, and each try of a coder in
calibration with their answers. Answers live here, not in Annotation, so that they never
reach the agreement units, the conflicts, the exports or the distributions."""

from django.conf import settings
from django.db import models

from .codebook import Category, Dimension
from .labeling import Item
from .projects import Membership, Project


class GoldItem(models.Model):
    """An item of the gold set: the lead's labels (GoldLabel rows) and rationale."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_items")
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="gold")
    rationale = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item__position", "item_id"]


class GoldLabel(models.Model):
    """One label of a gold item's failure record (the FinalRecordLabel shape)."""

    gold = models.ForeignKey(GoldItem, on_delete=models.CASCADE, related_name="labels")
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["gold", "record", "dimension__order"]


class CalibrationTry(models.Model):
    """One pass of a coder through the gold set; scored when every gold item is answered."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="calibration_tries"
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kappa = models.FloatField(null=True, blank=True)
    # {dimension key: {"agreement": share, "kappa": value or null, "units": n}}
    scores = models.JSONField(default=dict, blank=True)
    passed = models.BooleanField(null=True)
    # The project's settings when the try was scored (the methods section reports those each
    # coder faced, not today's); null on tries scored before they were recorded.
    threshold = models.FloatField(null=True, blank=True)
    max_tries = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["membership", "number"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "number"], name="calibration_try_unique")
        ]


class CalibrationAnswer(models.Model):
    """A coder's labels of one gold item in one try."""

    attempt = models.ForeignKey(CalibrationTry, on_delete=models.CASCADE, related_name="answers")
    gold = models.ForeignKey(GoldItem, on_delete=models.CASCADE, related_name="answers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "gold"], name="calibration_answer_unique")
        ]


class CalibrationLabel(models.Model):
    answer = models.ForeignKey(CalibrationAnswer, on_delete=models.CASCADE, related_name="labels")
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    evidence = models.TextField(blank=True)
