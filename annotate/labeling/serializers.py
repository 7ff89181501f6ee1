"""Input and output shapes of the labeling API (documented through drf-spectacular)."""

from rest_framework import serializers

from annotate.api.records import FailureRecordSerializer, FailureRecordsField
from annotate.limits import TEXT_LIMITS as L
from annotate.records import parse_wire


class AnnotationInputSerializer(serializers.Serializer):
    records = FailureRecordsField(
        required=False,
        default=list,
        help_text="One or more failure records; empty when out of scope.",
    )
    out_of_scope = serializers.BooleanField(required=False, default=False)
    out_of_scope_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=L["out_of_scope_reason"]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=L["note"])
    confidence = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=5
    )
    active_seconds = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Seconds the client spent on the item in this visit; clamped to 0-4 h.",
    )

    def service_records(self) -> list[list[dict]]:
        # The one record parser (annotate.records), with the span beside each label
        # (docs/evidence.md).
        return [
            [
                {**ref._asdict(), "span": label["span"]}
                for ref, label in zip(parse_wire(record), record["labels"], strict=True)
            ]
            for record in self.validated_data["records"]
        ]


class SkipInputSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="Why the caller skips the item.", max_length=L["reason"]
    )


class SkipOutputSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    skipped = serializers.BooleanField()
    reason = serializers.CharField()


class CommentOutputSerializer(serializers.Serializer):
    author = serializers.CharField()
    body = serializers.CharField(help_text="GitHub Markdown, untrusted.")
    created_at = serializers.DateTimeField(allow_null=True)


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The item's id, for the annotations endpoint.")
    calibration = serializers.BooleanField()
    batch = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField(help_text="GitHub Markdown, untrusted.")
    url = serializers.URLField()
    repo = serializers.CharField()
    group = serializers.CharField()
    number = serializers.IntegerField()
    issue_state = serializers.CharField()
    labels = serializers.ListField(child=serializers.JSONField())
    created_at = serializers.DateTimeField(allow_null=True)
    comments = CommentOutputSerializer(many=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the assignment returns to the pool if not submitted."
    )
    codebook_version = serializers.IntegerField(
        help_text="The codebook's version now; fetch `codebook_url` when it differs from yours."
    )
    codebook_url = serializers.URLField(
        help_text="The project's codebook: GET /api/projects/{slug}/codebook/."
    )


class FinalOutputSerializer(serializers.Serializer):
    provenance = serializers.CharField()
    out_of_scope = serializers.BooleanField()
    records = serializers.ListField(child=FailureRecordSerializer())
    differences = serializers.ListField(
        child=serializers.CharField(), help_text="Where the caller's annotation differs."
    )


class AnnotationOutputSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    out_of_scope = serializers.BooleanField()
    out_of_scope_reason = serializers.CharField()
    note = serializers.CharField()
    confidence = serializers.IntegerField(allow_null=True)
    codebook_version = serializers.IntegerField()
    round = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    records = serializers.ListField(child=FailureRecordSerializer())
    settled = serializers.BooleanField(help_text="True once the item's final label is settled.")
    final = FinalOutputSerializer(
        allow_null=True, help_text="The final label, only once the item is settled."
    )


class OwnProgressSerializer(serializers.Serializer):
    done_today = serializers.IntegerField()
    done_total = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Items the queue could still give the caller.")


class ProjectProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    settled = serializers.IntegerField()
    percent = serializers.IntegerField()
    states = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="Leads and owners only."
    )


class ProgressOutputSerializer(serializers.Serializer):
    mine = OwnProgressSerializer()
    project = ProjectProgressSerializer()
