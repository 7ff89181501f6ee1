from rest_framework import serializers

from . import services
from .models import MiningJob, Repository
from .progress import parse_full_name, parse_issue_link


class RepositorySerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Repository
        fields = [
            "id",
            "owner",
            "name",
            "full_name",
            "group",
            "metadata",
            "issues_watermark",
            "comments_watermark",
            "last_synced_at",
        ]
        read_only_fields = ["issues_watermark", "comments_watermark", "last_synced_at"]


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
        return services.job_progress(job)["fraction"]

    def get_eta_seconds(self, job) -> float | None:
        return services.job_progress(job)["eta_seconds"]


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
