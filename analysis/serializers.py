"""Output and input serializers of the analysis API (documented for drf-spectacular)."""

from rest_framework import serializers


class AgreementQuerySerializer(serializers.Serializer):
    exclude_calibration = serializers.BooleanField(
        required=False, default=False, help_text="Leave out calibration items."
    )
    exclude_discussed = serializers.BooleanField(
        required=False, default=False, help_text="Leave out items sent back for discussion."
    )
    unpaired = serializers.ChoiceField(
        choices=["missing", "disagree"],
        required=False,
        default="missing",
        help_text="A label no other in-scope annotator of the item has: a missing value "
        "(missing, the default) or a disagreement against (none) (disagree).",
    )
    phase = serializers.ChoiceField(
        choices=["main", "pilot", "all"],
        required=False,
        help_text="Issue #17: the main (closed-coding) phase, the pilot, or all; default main "
        "once the project switched to a main phase, else all.",
    )


class AgreementRowSerializer(serializers.Serializer):
    dimension = serializers.CharField(
        help_text="The dimension's key, or 'scope' (in or out of scope) or 'record_count' "
        "(the number of failure records)."
    )
    dimension_name = serializers.CharField()
    level = serializers.IntegerField(help_text="1 = top level of the category tree.")
    full_path = serializers.BooleanField(help_text="True for the tree's deepest level.")
    n = serializers.IntegerField(help_text="Items rated by at least two annotators.")
    percent_agreement = serializers.FloatField(
        allow_null=True, help_text="Share of agreeing rating pairs, 0..1."
    )
    kappa_statistic = serializers.ChoiceField(
        choices=["cohen", "fleiss", "light"],
        help_text="Cohen's kappa for two annotators; for more, Fleiss' (every item with as "
        "many ratings) or Light's (mean of pairwise Cohen's kappas).",
    )
    kappa = serializers.FloatField(allow_null=True, help_text="The kappa kappa_statistic names.")
    weighting = serializers.CharField(help_text="nominal, or linear (Cohen 1968) for record_count.")
    se = serializers.FloatField(allow_null=True, help_text="Standard error of kappa.")
    se_method = serializers.CharField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True, help_text="95% CI lower bound, >= -1.")
    ci_high = serializers.FloatField(allow_null=True, help_text="95% CI upper bound, <= 1.")
    ci_method = serializers.CharField(allow_null=True, help_text="How the CI was computed.")
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha, nominal.")
    ac1 = serializers.FloatField(allow_null=True, help_text="Gwet's AC1.")
    pabak = serializers.FloatField(
        allow_null=True, help_text="Prevalence- and bias-adjusted kappa (Byrt et al. 1993)."
    )
    kappa_max = serializers.FloatField(
        allow_null=True, help_text="Largest kappa the margins allow (Cohen 1960)."
    )
    prevalence_index = serializers.FloatField(allow_null=True, help_text="Byrt et al. 1993.")
    bias_index = serializers.FloatField(allow_null=True, help_text="Byrt et al. 1993.")
    band = serializers.CharField(allow_null=True, help_text="Landis & Koch band of kappa.")
    unpaired = serializers.IntegerField(
        required=False, help_text="Labels without a partner (missing values)."
    )
    undefined = serializers.CharField(
        allow_null=True, help_text="Why a statistic is null, when it is."
    )


class AgreementSerializer(serializers.Serializer):
    record_pairing = serializers.CharField(help_text="How failure records were paired.")
    unpaired = serializers.ChoiceField(choices=["missing", "disagree"])
    unpaired_convention = serializers.CharField(help_text="What the unpaired choice means.")
    rows = AgreementRowSerializer(many=True)


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
