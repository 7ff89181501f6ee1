"""Releases and import jobs (the dataset app's work; the tables stay in annotate)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .projects import Project


class Release(models.Model):
    """A versioned, immutable snapshot of a project's dataset, as one zip."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200, blank=True)
    archive = models.FileField(upload_to="releases/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_version")
        ]


class ImportJob(models.Model):
    """An import run by a Celery worker: the uploaded files (kept under
    settings.IMPORT_UPLOAD_DIR until the job ends), its progress and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    format = models.CharField(max_length=10)
    labels = models.CharField(max_length=170)
    add_categories = models.BooleanField(default=False)
    # The group rule (dataset.groups): its base ("owner", "family" or a group name) and
    # its map, {"OWNER/NAME": group}.
    group = models.CharField(max_length=105, blank=True)
    group_map = models.JSONField(default=dict, blank=True)
    # [{"name": the uploaded file's name, "path": where it is stored, "size": bytes}]
    files = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One import at a time per project: the same upload sent several times at once
            # starts one job; the others are refused (409).
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["queued", "running"]),
                name="import_job_one_active_per_project",
            )
        ]

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
