"""People's names for the keys the analysis code works with (issue #15, defect 6): the
pages show "Root cause, level 1" for ``dim:root_cause@1`` and "% agree" for
``percent_agreement``. The downloads keep the keys: a script reads those."""

from . import exports
from .codebook import load_codebook
from .reports import STATISTIC_NAMES, percent_text

ATTRIBUTE_NAMES = {
    "group": "Group (model series)",
    "repo": "Repository",
    "state": "Issue state",
    "year": "Year opened",
    "quarter": "Quarter opened",
    "fixed": "Fixed (a merged closing pull request)",
    "time_to_fix": "Time to fix",
}

# A breakdown table's columns as the page heads them.
COLUMN_NAMES = {
    "annotator_a": "Annotator A",
    "annotator_b": "Annotator B",
    "batch": "Batch",
    "week": "Week",
    "codebook_version": "Codebook version",
    "n": "n",
    "percent_agreement": "% agree",
    "kappa_statistic": "Kappa",
    "kappa": "κ",
    "se": "SE",
    "se_method": "SE method",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "ci_method": "CI method",
    "alpha": "α",
    "ac1": "AC1",
    "pabak": "PABAK",
    "kappa_max": "κ max",
    "prevalence_index": "Prevalence",
    "bias_index": "Bias",
    "band": "Band",
    "undefined": "Why undefined",
}


def spec_choices(project, *current: str) -> list[tuple[str, str]]:
    """The cross-tab axes a form offers, as (SPEC, name): every dimension at each level and
    its full path, then the item attributes; a SPEC typed into the URL that is none of
    these (``meta:NAME``) is offered under its own text so the form shows what is used."""
    choices = []
    for key, tree in load_codebook(project).items():
        name = tree.dimension.name
        choices += [(f"dim:{key}@{level}", f"{name}, level {level}") for level in tree.levels()]
        choices.append((f"dim:{key}", f"{name}, full path"))
    choices += list(ATTRIBUTE_NAMES.items())
    known = {value for value, _ in choices}
    extra = [(spec, spec_label(spec, choices)) for spec in current if spec and spec not in known]
    return choices + list(dict.fromkeys(extra))


def spec_label(spec: str, choices: list[tuple[str, str]]) -> str:
    """The name of one SPEC: from ``choices``, else read from the SPEC's own parts."""
    names = dict(choices)
    if spec in names:
        return names[spec]
    if spec.startswith("meta:"):
        return f"{spec[5:].replace('_', ' ').capitalize()} (item metadata)"
    return spec


def breakdown_cell(column: str, value) -> str:
    """A breakdown table's cell as the summary table shows it: shares as percentages with
    one decimal, statistics with three, the kappa's name instead of its key."""
    if column == "percent_agreement":
        return percent_text(value) or ""
    if column == "kappa_statistic":
        return STATISTIC_NAMES.get(value, value or "")
    if isinstance(value, float):
        return exports.cell_text(value, 3)
    return exports.cell_text(value)
