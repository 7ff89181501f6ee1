"""Wire shapes of open coding (issue #17): proposals, board decisions, the phase."""

from rest_framework import serializers

from annotate.models import CategoryProposal


class ProposalInputSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="An item you hold or held.")
    dimension = serializers.SlugField(help_text="The dimension's key.")
    parent = serializers.IntegerField(
        required=False, allow_null=True, help_text="A category id of that dimension; none: top."
    )
    name = serializers.CharField(max_length=200)
    definition = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="The quote that motivates it.")  # fmt: skip
    record = serializers.IntegerField(required=False, default=0, min_value=0, max_value=19)


class ProposalSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="dimension.key")
    author = serializers.CharField(source="author.username")
    category_path = serializers.CharField(source="category.path", allow_null=True, default=None)

    class Meta:
        model = CategoryProposal
        fields = ["id", "dimension", "parent", "name", "definition", "evidence", "item",
                  "record", "author", "status", "merged_into", "category", "category_path",
                  "codebook_version", "created_at", "decided_at"]  # fmt: skip
        read_only_fields = fields


class BoardDecisionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["merge", "map", "promote"])
    proposals = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=500,
        help_text="merge: the proposals folded into this one.",
    )  # fmt: skip
    category = serializers.IntegerField(required=False, help_text="map: the category id.")
    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200,
        help_text="promote: the name (default the proposal's).",
    )  # fmt: skip
    definition = serializers.CharField(required=False, allow_null=True, default=None)


class PhaseSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=["pilot", "main"])
    codebook_version = serializers.IntegerField(read_only=True)
    main_since_version = serializers.IntegerField(read_only=True, allow_null=True)
