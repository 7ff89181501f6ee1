"""Wire shapes of the dataset's publishing resources: export, import jobs and releases."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotate.models import (
    ImportJob,
    Release,
)
from dataset.exporting import LABEL_CHOICES
from dataset.formats import FORMATS


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FORMATS, default="jsonl")
    labels = serializers.ChoiceField(choices=LABEL_CHOICES, default="final")


class ImportSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), min_length=1)
    format = serializers.ChoiceField(choices=FORMATS, default="olf")
    labels = serializers.RegexField(
        r"^(final|none|annotator:[\w.@+-]{1,150})$",
        default="final",
        help_text="final, none or annotator:USERNAME",
    )
    add_categories = serializers.BooleanField(default=False)
    group = serializers.CharField(
        max_length=105,
        required=False,
        allow_blank=True,
        help_text="the group of repositories new to the project: owner (default), family, "
        "or one group name",
    )
    group_map = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        help_text="OWNER/NAME=GROUP entries (commas or new lines) or a JSON object: these "
        "repositories' groups, new or not; each must be linked to by the files",
    )


class ImportResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    summary = serializers.CharField()
    files = serializers.IntegerField()
    records = serializers.IntegerField()
    issues = serializers.IntegerField()
    repositories_created = serializers.IntegerField()
    issues_created = serializers.IntegerField()
    items_created = serializers.IntegerField()
    labels_written = serializers.IntegerField()
    groups_changed = serializers.IntegerField(default=0)
    categories_added = serializers.ListField(child=serializers.CharField())


class ImportJobSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "progress",
            "format",
            "labels",
            "group",
            "group_map",
            "files",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "url",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_files(self, job) -> list:
        # Where the files wait on disk is the server's business.
        return [{"name": f["name"], "size": f["size"]} for f in job.files]

    def get_progress(self, job) -> float:
        from dataset.import_jobs import job_progress

        return round(job_progress(job), 3)

    @extend_schema_field(ImportResultSerializer(allow_null=True))
    def get_result(self, job):
        return ImportResultSerializer(job.result).data if job.result else None

    def get_url(self, job) -> str:
        from django.urls import reverse

        return reverse("api-import-job", args=[job.project.slug, job.pk])


class ReleaseSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(
        source="created_by.username", default=None, read_only=True, allow_null=True
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "id",
            "version",
            "title",
            "sha256",
            "size",
            "counts",
            "created_by",
            "created_at",
            "download_url",
        ]

    def get_download_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("api-release-download", args=[obj.project.slug, obj.version])


class ReleaseCreateSerializer(serializers.Serializer):
    version = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        required=False,
        help_text="e.g. 1.0 or 2026-03; the next number when omitted",
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
