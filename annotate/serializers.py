"""Input and output shapes of the generic REST resources (annotate/api.py)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mining.access import blank_issue
from mining.models import Comment, Issue

from .dataset_io import FORMATS
from .exporting import LABEL_CHOICES
from .labeling import ITEM_STATES_SHOWN
from .limits import MAX_EXAMPLES
from .limits import TEXT_LIMITS as L
from .models import (
    PATH_SEPARATOR,
    Annotation,
    Assignment,
    FinalLabel,
    ImportJob,
    Invitation,
    Item,
    Membership,
    Project,
    Release,
    Role,
)


class ApiErrorSerializer(serializers.Serializer):
    """Every error reply: a message, a code, and on 400 the messages per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True, help_text="The caller's role.")
    github_token_set = serializers.BooleanField(
        source="has_github_token",
        read_only=True,
        help_text="Whether the project has a GitHub token of its own (never shown).",
    )
    may_use_server_token = serializers.BooleanField(
        read_only=True, help_text="Whether staff let its mining use the server's token."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "guidelines",
            "overlap",
            "codebook_version",
            "github_token_set",
            "may_use_server_token",
            "role",
            "created_at",
        ]
        read_only_fields = ["id", "codebook_version", "created_at"]


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=100)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=L["description"]
    )
    preset = serializers.BooleanField(
        default=True, help_text="Load the study's codebook (symptom, root cause, stage)."
    )


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "username", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class GitHubTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=255, write_only=True, help_text="The project's own GitHub token (write-only)."
    )


class GitHubTokenStateSerializer(serializers.Serializer):
    github_token_set = serializers.BooleanField()


class InvitationSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", default=None)
    email = serializers.CharField(help_text="Empty unless the invitation is addressed so.")

    class Meta:
        model = Invitation
        fields = ["id", "role", "username", "email", "created_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationCreatedSerializer(InvitationSerializer):
    url = serializers.CharField(
        read_only=True,
        help_text="The single-use link to give the invitee; shown this once (only its hash "
        "is stored).",
    )

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "url"]
        read_only_fields = fields


class InvitationCreateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    username = serializers.RegexField(
        r"^[\w.@+-]{1,150}$", max_length=150, required=False, default=""
    )
    email = serializers.EmailField(required=False, default="")


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    path = serializers.CharField()
    depth = serializers.IntegerField()
    description = serializers.CharField()
    examples = serializers.JSONField()
    retired = serializers.BooleanField()
    children = serializers.ListField(
        child=serializers.DictField(), help_text="Nodes of the same shape."
    )


class DimensionTreeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    required = serializers.BooleanField()
    categories = CategoryNodeSerializer(many=True)


class CodebookSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    guidelines = serializers.CharField(help_text="The annotators' guidelines, in Markdown.")
    dimensions = DimensionTreeSerializer(many=True)


class CategoryEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=L["description"]
    )
    examples = serializers.ListField(
        child=serializers.CharField(max_length=L["example"]),
        required=False,
        max_length=MAX_EXAMPLES,
    )

    def validate_name(self, value):
        value = " ".join(value.split())
        if not value or PATH_SEPARATOR.strip() in value:
            raise serializers.ValidationError("A name must be non-empty and must not contain '>'.")
        return value


def project_group_of(serializer, issue) -> str:
    """The issue's repository group as the caller's project has it (context["groups"]: a
    mining.access.ProjectGroups the view puts there)."""
    return serializer.context["groups"].get(issue.repository_id)


def readable_issue(serializer, issue):
    """The issue as the caller's project may read it (context["text_access"], a
    mining.access.TextAccess the view puts there; without one, no text shows)."""
    access = serializer.context.get("text_access")
    return blank_issue(issue) if access is None else access.hide(issue)


class IssueSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.full_name", read_only=True)
    group = serializers.SerializerMethodField()
    html_url = serializers.CharField(read_only=True)

    class Meta:
        model = Issue
        fields = [
            "id",
            "repository",
            "group",
            "number",
            "html_url",
            "title",
            "body",
            "state",
            "author",
            "labels",
            "created_at",
            "updated_at",
            "closed_at",
            "comment_count",
            "is_pull_request",
            "fetched",
        ]

    def get_group(self, issue) -> str:
        return project_group_of(self, issue)

    def to_representation(self, issue):
        return super().to_representation(readable_issue(self, issue))


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ["id", "github_id", "author", "body", "created_at", "updated_at"]


class IssueBriefSerializer(serializers.ModelSerializer):
    repository = serializers.CharField(source="repository.full_name", read_only=True)
    group = serializers.SerializerMethodField()
    html_url = serializers.CharField(read_only=True)

    class Meta:
        model = Issue
        fields = ["id", "repository", "group", "number", "html_url", "title", "state"]

    def get_group(self, issue) -> str:
        return project_group_of(self, issue)

    def to_representation(self, issue):
        return super().to_representation(readable_issue(self, issue))


@extend_schema_field(
    {
        "type": "string",
        "enum": [value for value, _ in ITEM_STATES_SHOWN],
        "description": "The item's state as the caller may see it: annotators see "
        "`submitted` for unsettled items they labeled and `open` for the others, never "
        "`conflict`.",
    }
)
class ShownStateField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(ITEM_STATES_SHOWN, source="shown_state", read_only=True, **kwargs)


class ItemSerializer(serializers.ModelSerializer):
    """An item; its `state` comes from `shown_state` (annotate.labeling), set by the view."""

    issue = IssueBriefSerializer(read_only=True)
    state = ShownStateField()

    class Meta:
        model = Item
        fields = [
            "id",
            "issue",
            "state",
            "position",
            "calibration",
            "batch",
            "metadata",
            "edited_since_labeling",
            "created_at",
            "settled_at",
        ]


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "item", "state", "skip_reason", "assigned_at", "expires_at", "completed_at"]


class RecordSerializer(serializers.Serializer):
    record = serializers.IntegerField(help_text="Index of the failure record in its issue.")
    labels = serializers.DictField(
        child=serializers.CharField(), help_text="Dimension key to category path."
    )


def records_of(labels) -> list[dict]:
    """Label rows (with dimension and category loaded) grouped into failure records."""
    records: dict[int, dict] = {}
    for label in labels:
        entry = records.setdefault(label.record, {"record": label.record, "labels": {}})
        entry["labels"][label.dimension.key] = label.category.path
    return [records[k] for k in sorted(records)]


class AnnotationSerializer(serializers.ModelSerializer):
    annotator = serializers.SerializerMethodField()
    records = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = [
            "id",
            "item",
            "annotator",
            "out_of_scope",
            "out_of_scope_reason",
            "note",
            "confidence",
            "codebook_version",
            "round",
            "records",
            "created_at",
            "updated_at",
        ]

    def get_annotator(self, obj) -> str:
        names = self.context.get("annotator_names")
        return names(obj.annotator) if names else obj.annotator.username

    def get_records(self, obj) -> list[dict]:
        return RecordSerializer(records_of(obj.labels.all()), many=True).data


class FinalLabelSerializer(serializers.ModelSerializer):
    issue = IssueBriefSerializer(source="item.issue", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", default=None, read_only=True, allow_null=True
    )
    records = serializers.SerializerMethodField()

    class Meta:
        model = FinalLabel
        fields = [
            "id",
            "item",
            "issue",
            "provenance",
            "out_of_scope",
            "out_of_scope_reason",
            "rationale",
            "error_kind",
            "codebook_needs_work",
            "codebook_version",
            "decided_by",
            "decided_at",
            "records",
        ]

    def get_records(self, obj) -> list[dict]:
        return RecordSerializer(records_of(obj.labels.all()), many=True).data


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
    group = serializers.CharField(max_length=100, required=False, allow_blank=True)


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
        from .import_jobs import job_progress

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
