"""A project's codebook: dimensions, their category trees, and the record of changes."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .projects import PATH_SEPARATOR, Project


class Dimension(models.Model):
    """A single-choice question of the codebook (symptom, root cause, stage)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dimensions")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["project", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="dimension_unique_key")
        ]

    def __str__(self):
        return f"{self.project.slug}:{self.key}"


class CategoryQuerySet(models.QuerySet):
    def active(self):
        return self.filter(retired=False)


class Category(models.Model):
    """A node of a dimension's category tree. Its full path is its identity in exports;
    `path` and `depth` are kept in step with the tree by the codebook services."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(default=False)
    path = models.CharField(max_length=1000, editable=False)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["dimension", "path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "name"],
                condition=Q(parent__isnull=True),
                name="category_unique_root_name",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(parent__isnull=False),
                name="category_unique_child_name",
            ),
        ]
        indexes = [models.Index(fields=["dimension", "path"])]

    def __str__(self):
        return self.path

    @property
    def parts(self) -> list[str]:
        return self.path.split(PATH_SEPARATOR)

    def compute_path(self) -> str:
        if self.parent_id is None:
            return self.name
        return f"{self.parent.path}{PATH_SEPARATOR}{self.name}"


class CodebookChange(models.Model):
    """One recorded change of a project's codebook; each bumps the codebook version."""

    class Kind(models.TextChoices):
        PRESET = "preset", "preset loaded"
        ADD = "add", "add"
        RENAME = "rename", "rename"
        EDIT = "edit", "edit description"
        RETIRE = "retire", "retire"
        MERGE = "merge", "merge"
        SPLIT = "split", "split"
        PHASE = "phase", "phase switched"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codebook_changes")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "version", "id"]
