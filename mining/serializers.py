from rest_framework import serializers

from . import jobs
from .models import MiningJob, ProjectRepository
from .progress import parse_full_name, parse_issue_link


class RepositorySerializer(serializers.ModelSerializer):
    """A project's view of a repository it mines: `id` is the repository's (jobs name it),
    group and metadata are this project's, `last_synced_at` is this project's last sync.
    The shared sync state (watermarks) shows only once this project has synced it."""

    id = serializers.IntegerField(source="repository.id", read_only=True)
    source = serializers.CharField(source="repository.source", read_only=True)
    owner = serializers.CharField(source="repository.owner", read_only=True)
    name = serializers.CharField(source="repository.name", read_only=True)
    full_name = serializers.CharField(source="repository.full_name", read_only=True)
    issues_watermark = serializers.SerializerMethodField()
    comments_watermark = serializers.SerializerMethodField()

    class Meta:
        model = ProjectRepository
        fields = [
            "id",
            "source",
            "owner",
            "name",
            "full_name",
            "group",
            "metadata",
            "issues_watermark",
            "comments_watermark",
            "last_synced_at",
        ]
        read_only_fields = fields

    def get_issues_watermark(self, view) -> str | None:
        return self._synced(view, view.repository.issues_watermark)

    def get_comments_watermark(self, view) -> str | None:
        return self._synced(view, view.repository.comments_watermark)

    @staticmethod
    def _synced(view, moment):
        return moment.isoformat() if view.last_synced_at and moment else None


class RepositoryInput(serializers.Serializer):
    full_name = serializers.CharField(max_length=200)
    group = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=None, allow_null=True)

    def validate_full_name(self, value):
        try:
            parse_full_name(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None
        return value

    def validate_metadata(self, value):
        if value is not None and _has_nul(value):
            # PostgreSQL's jsonb cannot hold U+0000: refuse it here, not with a 500.
            raise serializers.ValidationError("Metadata may not contain null characters.")
        return value


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class JobSerializer(serializers.ModelSerializer):
    repositories = serializers.SlugRelatedField(many=True, read_only=True, slug_field="full_name")
    progress = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()

    class Meta:
        model = MiningJob
        fields = [
            "id",
            "kind",
            "status",
            "repositories",
            "filters",
            "cancel_requested",
            "pages",
            "issues",
            "comments",
            "requests",
            "rate_limit_remaining",
            "rate_limit_reset",
            "errors",
            "progress",
            "eta_seconds",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_progress(self, job) -> float:
        return jobs.job_progress(job)["fraction"]

    def get_eta_seconds(self, job) -> float | None:
        return jobs.job_progress(job)["eta_seconds"]


class JobInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MiningJob.Kind.choices, default=MiningJob.Kind.CRAWL)
    repositories = serializers.ListField(child=serializers.IntegerField(), required=False)
    links = serializers.ListField(child=serializers.CharField(), required=False)

    def validate_links(self, value):
        for link in value:
            try:
                parse_issue_link(link)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from None
        return value
