"""The wire shapes of machine raters and their runs. A rater's key is write-only: the
reply says whether one is stored, never what it is."""

from rest_framework import serializers

from annotate.models import Rater, RaterRun


class RaterInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Rater.Kind.choices)
    name = serializers.CharField(max_length=100)
    model = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    base_url = serializers.URLField(max_length=500, required=False, default="", allow_blank=True)
    api_key = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, write_only=True
    )
    prompt_version = serializers.CharField(max_length=40, required=False, default="v1")
    temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False, default=0)
    seed = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=-(2**31), max_value=2**31 - 1
    )
    runs_per_start = serializers.IntegerField(min_value=1, max_value=10, required=False, default=1)
    visible_in_adjudication = serializers.BooleanField(required=False, default=False)


class RaterChangeSerializer(serializers.Serializer):
    """A change of a rater's settings: only the fields sent change (its kind never does).
    A non-blank `api_key` replaces the stored key; `clear_api_key` removes it."""

    name = serializers.CharField(max_length=100, required=False)
    model = serializers.CharField(max_length=200, required=False, allow_blank=True)
    base_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    api_key = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, write_only=True
    )
    clear_api_key = serializers.BooleanField(required=False, default=False)
    prompt_version = serializers.CharField(max_length=40, required=False)
    temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False)
    seed = serializers.IntegerField(
        required=False, allow_null=True, min_value=-(2**31), max_value=2**31 - 1
    )
    runs_per_start = serializers.IntegerField(min_value=1, max_value=10, required=False)
    visible_in_adjudication = serializers.BooleanField(required=False)


class RaterRunSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)

    class Meta:
        model = RaterRun
        fields = [
            "id",
            "number",
            "status",
            "progress",
            "codebook_version",
            "config",
            "items_total",
            "items_done",
            "labels_written",
            "invalid_answers",
            "failed_items",
            "quotes_not_found",
            "prompt_tokens",
            "completion_tokens",
            "seconds",
            "training",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class FailureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class FailedItemSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    error = serializers.CharField()
    attempts = serializers.IntegerField()


class RunFailuresSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Failed items of the run.")
    by_reason = FailureReasonSerializer(many=True)
    items = FailedItemSerializer(many=True, help_text="The first 100, in sample order.")
    items_shown = serializers.IntegerField()


class RaterRunDetailSerializer(RaterRunSerializer):
    failures = RunFailuresSerializer(read_only=True)

    class Meta(RaterRunSerializer.Meta):
        fields = [*RaterRunSerializer.Meta.fields, "failures"]


class RaterSerializer(serializers.ModelSerializer):
    has_api_key = serializers.BooleanField(read_only=True)

    class Meta:
        model = Rater
        fields = [
            "id",
            "kind",
            "name",
            "model",
            "prompt_version",
            "temperature",
            "seed",
            "runs_per_start",
            "base_url",
            "has_api_key",
            "visible_in_adjudication",
            "created_at",
        ]
