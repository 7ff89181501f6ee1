"""Wire shapes of a project's codebook: the tree of categories per dimension, and an edit."""

from rest_framework import serializers

from annotate.limits import MAX_EXAMPLES
from annotate.limits import TEXT_LIMITS as L
from annotate.models import (
    PATH_SEPARATOR,
)


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
