"""Wire shapes of similar items, duplicate groups and the consistency report."""

from rest_framework import serializers

from annotate.api.records import FailureRecordSerializer


class IssueRefSerializer(serializers.Serializer):
    repository = serializers.CharField()
    number = serializers.IntegerField()
    title = serializers.CharField()


class FinalRefSerializer(serializers.Serializer):
    provenance = serializers.CharField()
    out_of_scope = serializers.BooleanField()
    rationale = serializers.CharField()
    records = FailureRecordSerializer(many=True)


class SimilarItemSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    issue = IssueRefSerializer()
    score = serializers.FloatField()
    title_similarity = serializers.FloatField()
    trace_similarity = serializers.FloatField()
    same_error = serializers.BooleanField()
    settled = serializers.BooleanField()
    final_label = FinalRefSerializer(
        allow_null=True, help_text="Only for settled items; null for any other."
    )


class GroupMemberSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    issue = IssueRefSerializer()


class DuplicateGroupSerializer(serializers.Serializer):
    representative = serializers.IntegerField(help_text="The item kept for the group.")
    reasons = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField()
    members = GroupMemberSerializer(many=True)


class DuplicateGroupsSerializer(serializers.Serializer):
    threshold = serializers.FloatField()
    groups = DuplicateGroupSerializer(many=True)


class SidesSerializer(serializers.Serializer):
    first = serializers.ListField(child=serializers.CharField())
    second = serializers.ListField(child=serializers.CharField())


class PairSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    score = serializers.FloatField()
    confirmed = serializers.BooleanField()
    differences = serializers.DictField(child=SidesSerializer())


class ConsistencySerializer(serializers.Serializer):
    threshold = serializers.FloatField()
    settled = serializers.IntegerField(help_text="Settled items compared.")
    pairs = serializers.IntegerField(help_text="Near-duplicate pairs of settled items.")
    differing = serializers.IntegerField(help_text="Pairs whose final labels differ.")
    share_differing = serializers.FloatField(allow_null=True)
    by_dimension = serializers.DictField(child=serializers.IntegerField())
    results = PairSerializer(many=True)
