"""Open coding (issue #17): categories annotators propose while labeling in the pilot
phase, and what the lead decided about each."""

from django.conf import settings
from django.db import models

from .codebook import Category, Dimension
from .labeling import Item
from .projects import Project


class CategoryProposal(models.Model):
    """A category an annotator proposed for one failure record of an item, with the quote
    that motivated it. Until it is decided the proposal stands for the author's label of
    that record on its dimension; a decision points it at the category it became (mapped
    onto an existing one, promoted into the codebook, or merged into another proposal that
    was) and moves the author's label there."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        MERGED = "merged", "merged into another proposal"
        MAPPED = "mapped", "mapped onto an existing category"
        PROMOTED = "promoted", "promoted into the codebook"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="proposals")
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    parent = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    evidence = models.TextField(blank=True, help_text="The quote that motivates it.")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="proposals")
    record = models.PositiveSmallIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="category_proposals"
    )
    codebook_version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged"
    )
    # What the proposal became (set by every decision, merges included).
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "dimension", "created_at", "id"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self):
        return f"proposal {self.name!r} ({self.status})"
