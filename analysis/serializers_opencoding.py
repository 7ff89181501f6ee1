"""Wire shapes of the planner and saturation endpoints (issue #17), for drf-spectacular."""

from rest_framework import serializers


class PlannerQuerySerializer(serializers.Serializer):
    dimension = serializers.CharField(
        required=False, help_text="A dimension key; default the first."
    )
    level = serializers.IntegerField(required=False, help_text="1 = top; default the full path.")
    kappa = serializers.FloatField(
        required=False, help_text="Expected kappa in [0, 1); default the level's kappa so far."
    )
    prevalences = serializers.CharField(
        required=False,
        help_text="Comma-separated category shares or counts; default the paired ratings' margins.",
    )
    half_width = serializers.FloatField(
        required=False, help_text="Target half-width of the interval; default the project's."
    )
    confidence = serializers.FloatField(required=False, help_text="Default 0.95.")
    simulate = serializers.BooleanField(
        required=False, help_text="Cross-check by a seeded simulation (2,000 studies)."
    )
    null_kappa = serializers.FloatField(
        required=False,
        help_text="Null kappa for the test form (Donner & Eliasziw 1992, as Sim & Wright 2005 "
        "tabulate it): items per category to tell it from the expected kappa.",
    )
    power = serializers.FloatField(required=False, help_text="Power of the test form (0.8).")
    tails = serializers.IntegerField(required=False, help_text="1 or 2 (default 2).")


class CategoryPlanSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position in the prevalences.")
    label = serializers.CharField()
    prevalence = serializers.FloatField()
    items = serializers.IntegerField(help_text="Items for this category's kappa against the rest.")
    reachable = serializers.BooleanField(allow_null=True, help_text="Within the project's items.")
    interval_items = serializers.IntegerField(
        allow_null=True,
        help_text="Items for the goodness-of-fit interval (Donner & Eliasziw 1992; Donner & "
        "Rotondi 2010) around the expected kappa to reach it -/+ the half-width.",
    )
    test_items = serializers.IntegerField(
        allow_null=True,
        help_text="Items to test null_kappa against the expected kappa (Donner & Eliasziw "
        "1992); null without null_kappa.",
    )


class SimulationSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    replicates = serializers.IntegerField()
    seed = serializers.IntegerField()
    mean_kappa = serializers.FloatField()
    sd_kappa = serializers.FloatField()
    half_width = serializers.FloatField(help_text="z times the simulated standard deviation.")
    coverage = serializers.FloatField(help_text="Share of asymptotic intervals holding kappa.")
    undefined = serializers.IntegerField()


class GaugeSerializer(serializers.Serializer):
    half_width = serializers.FloatField(allow_null=True, help_text="The current interval's.")
    target = serializers.FloatField()
    items = serializers.IntegerField(help_text="Items paired so far at this level.")
    may_stop = serializers.BooleanField()
    more_items = serializers.IntegerField(allow_null=True)
    single_coded = serializers.IntegerField()
    audit_items = serializers.IntegerField(help_text="Single-coded items to audit afterwards.")


class PlannerSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    level = serializers.IntegerField()
    kappa = serializers.FloatField()
    half_width = serializers.FloatField()
    confidence = serializers.FloatField()
    items = serializers.IntegerField(help_text="Items to double-code for the overall kappa.")
    unit_se = serializers.FloatField(help_text="Asymptotic SE of kappa times sqrt(n).")
    study_size = serializers.IntegerField()
    reachable = serializers.BooleanField()
    method = serializers.CharField()
    null_kappa = serializers.FloatField(allow_null=True)
    power = serializers.FloatField()
    tails = serializers.IntegerField()
    categories = CategoryPlanSerializer(many=True)
    simulation = SimulationSerializer(allow_null=True)
    gauge = GaugeSerializer()


class SaturationQuerySerializer(serializers.Serializer):
    batch_size = serializers.IntegerField(required=False, help_text="Default the project's.")
    base = serializers.IntegerField(required=False, help_text="Base size in batches (4).")
    run = serializers.IntegerField(required=False, help_text="Run length in batches (2).")
    threshold = serializers.FloatField(required=False, help_text="New-information share (0.05).")
    level = serializers.IntegerField(required=False, help_text="Count codes at this level.")


class RunSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    new = serializers.IntegerField()
    share = serializers.FloatField()


class VerdictSerializer(serializers.Serializer):
    base = serializers.IntegerField()
    run = serializers.IntegerField()
    threshold = serializers.FloatField()
    base_codes = serializers.IntegerField()
    saturated = serializers.BooleanField()
    at_batch = serializers.IntegerField(allow_null=True)
    runs = RunSerializer(many=True)
    reason = serializers.CharField()


class DimensionSaturationSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    level = serializers.IntegerField(allow_null=True)
    new = serializers.ListField(child=serializers.IntegerField())
    new_names = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    cumulative = serializers.ListField(child=serializers.IntegerField())
    verdict = VerdictSerializer()


class SaturationSerializer(serializers.Serializer):
    batch_size = serializers.IntegerField()
    batches = serializers.IntegerField()
    labeled_items = serializers.IntegerField()
    waiting = serializers.IntegerField()
    dimensions = DimensionSaturationSerializer(many=True)
