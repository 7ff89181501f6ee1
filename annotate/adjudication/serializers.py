"""Input and output shapes of the adjudication API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotate.adjudication.audit import final_records
from annotate.api.records import RECORDS, FailureRecordSerializer, FailureRecordsField
from annotate.limits import TEXT_LIMITS as L
from annotate.models import AuditEvent, Conflict, FinalLabel


class DecisionInputSerializer(serializers.Serializer):
    records = FailureRecordsField(
        required=False,
        default=list,
        help_text="Failure records in the one record shape; a label's category by id or "
        "full path. Empty when out of scope.",
    )
    out_of_scope = serializers.BooleanField(required=False, default=False)
    out_of_scope_reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=L["out_of_scope_reason"]
    )
    rationale = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=L["rationale"],
        help_text="Required when the decision overrides every annotator.",
    )
    error_kind = serializers.ChoiceField(
        choices=FinalLabel.ErrorKind.choices, required=False, default="", allow_blank=True
    )
    codebook_needs_work = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        # As a submission does: records beside out_of_scope were dropped without a word.
        if attrs["out_of_scope"] and attrs["records"]:
            raise serializers.ValidationError(
                {"records": ["An out-of-scope decision has no failure records; send none."]}
            )
        return attrs


class DecisionSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id")
    records = serializers.SerializerMethodField()
    decided_by = serializers.CharField(source="decided_by.username", default=None, allow_null=True)

    class Meta:
        model = FinalLabel
        fields = [
            "item",
            "provenance",
            "out_of_scope",
            "out_of_scope_reason",
            "records",
            "rationale",
            "error_kind",
            "codebook_needs_work",
            "codebook_version",
            "decided_by",
            "decided_at",
        ]

    @extend_schema_field(RECORDS)
    def get_records(self, final):
        return final_records(final)


class DifferenceSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="dimension.key", default=None)
    category_a = serializers.CharField(source="category_a.path", default=None)
    category_b = serializers.CharField(source="category_b.path", default=None)
    category_a_id = serializers.IntegerField(allow_null=True)
    category_b_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Conflict
        fields = [
            "kind",
            "record",
            "dimension",
            "level",
            "category_a",
            "category_b",
            "category_a_id",
            "category_b_id",
            "created_at",
        ]


class ConflictItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    repository = serializers.CharField(source="issue.repository.full_name")
    group = serializers.CharField(source="project_group", default="")
    number = serializers.IntegerField(source="issue.number")
    title = serializers.CharField(source="issue.title")
    waiting_since = serializers.DateTimeField()
    differences = serializers.SerializerMethodField()

    @extend_schema_field(DifferenceSerializer(many=True))
    def get_differences(self, item):
        rows = self.context["differences"].get(item.pk, [])
        return DifferenceSerializer(rows, many=True).data


class ConflictListSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Items matching the filters.")
    total = serializers.IntegerField(help_text="Items in conflict in the project.")
    by_dimension = serializers.DictField(child=serializers.IntegerField())
    results = ConflictItemSerializer(many=True)


class AnnotationRoundSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    out_of_scope = serializers.BooleanField()
    out_of_scope_reason = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    confidence = serializers.IntegerField(allow_null=True)
    records = serializers.ListField(child=FailureRecordSerializer())


class AnnotationOutSerializer(AnnotationRoundSerializer):
    id = serializers.IntegerField()
    annotator = serializers.CharField(help_text="A letter when the project hides names.")
    codebook_version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    earlier_rounds = AnnotationRoundSerializer(many=True)


class ItemAnnotationsSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    state = serializers.CharField()
    discussed = serializers.BooleanField()
    annotations = AnnotationOutSerializer(many=True)
    final = DecisionSerializer(allow_null=True)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(
        help_text="Username; 'Annotator A' etc. when the project hides annotators' names."
    )

    class Meta:
        model = AuditEvent
        fields = ["id", "kind", "actor", "created_at", "payload"]
        extra_kwargs = {
            "payload": {
                "help_text": "The step's data; failure records in it (records, final.records, "
                "replaced.records) are in the one record shape (FailureRecord)."
            }
        }

    def get_actor(self, event) -> str | None:
        alias = self.context.get("aliases", {}).get(event.actor_id)
        return alias or (event.actor.username if event.actor else None)
