"""The query parameters each GET route reads, keyed by URL name, for the XSS sweep
(tests/e2e/test_xss.py). tests/security/test_query_params.py checks the table against the
URL configuration (every GET route has an entry) and against the code (every parameter a
view, form, query serializer or filter set reads is listed), so a new route or parameter
cannot escape the sweep."""

from analysis.serializers import AgreementQuerySerializer, DistributionQuerySerializer
from analysis.serializers_opencoding import PlannerQuerySerializer, SaturationQuerySerializer
from annotate.projects.pool_forms import PoolForm
from dataset.serializers import ExportQuerySerializer

# Read by the framework on every route: DRF's format override and cursor, Django auth's
# redirect target, and page numbers. Injected into every route as well.
COMMON = ["format", "cursor", "next", "page"]

AGREEMENT = [
    "phase",
    "part",
    "level",
    "dimension",
    "exclude_calibration",
    "exclude_discussed",
    "unpaired",
]
# part=chart&kind=...: one chart, loaded by htmx after the page (issue #15).
DISTRIBUTIONS = ["view", "level", "dimension", "source", "group", "rows", "cols", "part", "kind"]
CONFLICTS = ["dimension", "pair", "repository", "group", "size", "after"]
BROWSE = ["q", "state", "repository", "group", "annotator", "category", "labeled", "batch", "after"]


def _fields(serializer) -> list[str]:
    return list(serializer().fields)


QUERY_PARAMS: dict[str, list[str]] = {
    "home": [],
    "login": ["next"],
    "password_change": [],
    "password_change_done": [],
    "password_reset": [],
    "password_reset_done": [],
    "password_reset_confirm": [],
    "password_reset_complete": [],
    "api-schema": ["lang", "version"],
    "api-docs": ["lang", "script"],
    "api-redoc": ["lang"],
    "api-projects": [],
    "project-create": [],
    "project-detail": [],
    "invitation": [],
    "project-settings": [],
    "codebook": [],
    "codebook-edit": [],
    "codebook-review": [],
    "label-next": [],
    "label-mine": ["page"],
    "label-progress": [],
    "label-item": [],
    "conflict-queue": CONFLICTS,
    "conflict-detail": [],
    "conflict-precedents": [],
    "item-history": [],
    "item-discussion": [],
    "inbox": [],
    "browse-items": BROWSE,
    "browse-item": [],
    "dataset": [],
    "dataset-import": [],
    "dataset-import-job": [],
    "releases": [],
    "mining-repositories": [],
    "mining-jobs": [],
    "mining-job": [],
    "mining-pool": list(PoolForm.base_fields),
    "analysis-agreement": AGREEMENT,
    "analysis-agreement-table": AGREEMENT,
    "analysis-agreement-chart": AGREEMENT,
    "analysis-distributions": DISTRIBUTIONS,
    "analysis-distribution-chart": DISTRIBUTIONS,
    "analysis-distribution-table": DISTRIBUTIONS,
    "analysis-distribution-shares": DISTRIBUTIONS,
    "analysis-reporting": [],
    "analysis-rater-agreement": [],
    "raters": [],
    "rater-run": ["page"],
    "machine-column": [],
    "api-raters": [],
    "api-rater": [],
    "api-rater-runs": [],
    "api-rater-run": [],
    "api-rater-agreement": [],
    "api-annotation-submit": [],
    "api-annotation-mine": [],
    "api-labeling-progress": [],
    "api-item-adjudication": [],
    "api-conflicts": [*CONFLICTS, "limit", "offset"],
    "api-item-history": [],
    "api-similar": ["limit"],
    "api-duplicates": ["threshold"],
    "api-consistency": ["threshold"],
    "consistency": ["threshold"],
    "api-item-discussion": [],
    "api-project": [],
    "api-members": [],
    "api-invitations": [],
    "api-codebook": [],
    "api-issues": ["FILTERSET"],
    "api-issue": [],
    "api-comments": [],
    "api-items": ["FILTERSET"],
    "api-item": [],
    "api-my-assignments": [],
    "api-my-annotations": ["FILTERSET"],
    "api-annotations": ["FILTERSET"],
    "api-final-labels": ["FILTERSET"],
    "api-export": _fields(ExportQuerySerializer),
    "api-import-job": [],
    "api-releases": [],
    "api-release": [],
    "api-release-download": [],
    "api-mining-repositories": [],
    "api-mining-jobs": [],
    "api-mining-job": [],
    "api-agreement": _fields(AgreementQuerySerializer),
    "api-distribution": _fields(DistributionQuerySerializer),
    "api-report-methods": [],
    "api-planner": _fields(PlannerQuerySerializer),
    "api-proposals": [],
    "api-phase": [],
    "calibration-gold": [],
    "calibration-label": [],
    "calibration-feedback": [],
    "api-calibration-gold": [],
    "api-calibration-member": [],
    "api-calibration-mine": [],
    "opencoding-panel": [],
    "opencoding-board": [],
    "api-saturation": _fields(SaturationQuerySerializer),
    "analysis-planner": _fields(PlannerQuerySerializer),
    "analysis-saturation": _fields(SaturationQuerySerializer),
    "analysis-saturation-chart": _fields(SaturationQuerySerializer),
    "analysis-saturation-table": _fields(SaturationQuerySerializer),
}


def params_for(route) -> list[str]:
    """The parameters to inject for `route`: its entry (a DRF view's filter set expanded
    from the view itself), then COMMON."""
    names = []
    for name in QUERY_PARAMS[route.key]:
        if name == "FILTERSET":
            view = getattr(route.callback, "cls", None)
            names += list(view.filterset_class.base_filters)
        else:
            names.append(name)
    return list(dict.fromkeys(names + COMMON))
