"""Wire shapes of the generic read resources (issues, comments, items, assignments,
annotations, final labels) and of every API error body."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotate.api.records import RECORDS
from annotate.labeling.shown import ITEM_STATES_SHOWN
from annotate.models import (
    Annotation,
    Assignment,
    FinalLabel,
    Item,
)
from annotate.records import to_wire
from mining.access import blank_issue
from mining.models import Comment, Issue


class ApiErrorSerializer(serializers.Serializer):
    """Every error reply: a message, a code, and on 400 the messages per field."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


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
    """An item; its `state` comes from `shown_state` (annotate.labeling.shown), set by
    the view."""

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

    @extend_schema_field(RECORDS)
    def get_records(self, obj):
        return to_wire(obj.labels.all())


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

    @extend_schema_field(RECORDS)
    def get_records(self, obj):
        return to_wire(obj.labels.all())
