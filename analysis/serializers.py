"""Output and input serializers of the analysis API (documented for drf-spectacular)."""

from rest_framework import serializers


class AgreementQuerySerializer(serializers.Serializer):
    exclude_calibration = serializers.BooleanField(
        required=False, default=False, help_text="Leave out calibration items."
    )
    exclude_discussed = serializers.BooleanField(
        required=False, default=False, help_text="Leave out items sent back for discussion."
    )


class AgreementRowSerializer(serializers.Serializer):
    dimension = serializers.CharField(help_text="The dimension's key.")
    dimension_name = serializers.CharField()
    level = serializers.IntegerField(help_text="1 = top level of the category tree.")
    full_path = serializers.BooleanField(help_text="True for the tree's deepest level.")
    n = serializers.IntegerField(help_text="Paired failure records (units).")
    percent_agreement = serializers.FloatField(allow_null=True, help_text="Share, 0..1.")
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa.")
    se = serializers.FloatField(
        allow_null=True, help_text="Asymptotic SE (Fleiss, Cohen & Everitt 1969)."
    )
    ci_low = serializers.FloatField(allow_null=True, help_text="95% CI lower bound.")
    ci_high = serializers.FloatField(allow_null=True, help_text="95% CI upper bound.")
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha, nominal.")
    ac1 = serializers.FloatField(allow_null=True, help_text="Gwet's AC1.")
    band = serializers.CharField(allow_null=True, help_text="Landis & Koch band of kappa.")
    unpaired = serializers.IntegerField(help_text="Labels without a partner (missing values).")
    undefined = serializers.CharField(
        allow_null=True, help_text="Why a statistic is null, when it is."
    )


class DistributionQuerySerializer(serializers.Serializer):
    rows = serializers.CharField(
        help_text="SPEC: dim:KEY, dim:KEY@LEVEL, group, repo, state, year, quarter, meta:NAME."
    )
    cols = serializers.CharField(required=False, help_text="SPEC; omit for one-way counts.")
    source = serializers.CharField(
        required=False, default="final", help_text="final (default) or annotator:USERNAME."
    )
    group = serializers.CharField(required=False, help_text="Keep one repository group.")


class ChiSquareSerializer(serializers.Serializer):
    chi2 = serializers.FloatField(allow_null=True)
    dof = serializers.IntegerField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    cramers_v = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    undefined = serializers.CharField(allow_null=True)
    cramers_v_corrected = serializers.FloatField(
        allow_null=True, help_text="Bergsma's (2013) bias-corrected Cramér's V."
    )
    expected_min = serializers.FloatField(allow_null=True, help_text="Smallest expected count.")
    expected_below_5 = serializers.FloatField(
        allow_null=True, help_text="Share (0..1) of cells with an expected count below 5."
    )
    sparse = serializers.BooleanField(
        help_text="Cochran's rule (no expected count < 1, at most 20% < 5) is broken."
    )
    p_monte_carlo = serializers.FloatField(
        allow_null=True, help_text="Monte-Carlo p over tables with the observed margins (sparse)."
    )
    monte_carlo_resamples = serializers.IntegerField(allow_null=True)
    monte_carlo_seed = serializers.IntegerField(allow_null=True)
    monte_carlo_skipped = serializers.CharField(
        allow_null=True, help_text="Why a sparse table has no Monte-Carlo p (too large)."
    )
    yates_applies = serializers.BooleanField(help_text="The table is 2x2.")
    yates_applied = serializers.BooleanField(help_text="Always false: Pearson's uncorrected χ².")


class SharedIssuesSerializer(serializers.Serializer):
    issues = serializers.IntegerField(help_text="Issues with more than one failure record.")
    records = serializers.IntegerField(help_text="The records those issues carry.")


class DistributionSerializer(serializers.Serializer):
    rows = serializers.ListField(child=serializers.CharField())
    cols = serializers.ListField(child=serializers.CharField())
    counts = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField()),
        help_text="Failure records per (row, col); an issue with two records counts twice.",
    )
    percentages = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="counts as % of the table's total.",
    )
    percent_ci_low = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="Wilson 95% interval of each percentage: lower bounds.",
    )
    percent_ci_high = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
        help_text="Wilson 95% interval of each percentage: upper bounds.",
    )
    total = serializers.IntegerField()
    chi2 = ChiSquareSerializer(required=False, help_text="Absent for one-way counts.")
    shared_issues = SharedIssuesSerializer(
        required=False,
        help_text="Issues contributing several records (not independent); with chi2 only.",
    )


class MethodsSerializer(serializers.Serializer):
    markdown = serializers.CharField(help_text="The section in Markdown.")
    latex = serializers.CharField(help_text="The section in LaTeX (booktabs tables).")
    facts = serializers.DictField(
        help_text="Every number the texts print: sample, coding, coders, codebook, agreement "
        "rows, adjudication and scope counts."
    )
