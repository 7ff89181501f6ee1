"""The double-coding planner of a project (issue #17): how many items two coders must both
label for kappa's interval on a dimension and level to be as narrow as the target, and a
gauge of where the project stands. The numbers are analysis.metrics.planning's; this
module reads their defaults from the project: the expected kappa and the category
prevalences from the agreement so far (each editable), the target from the project.

Readers are those of agreement (leads, owners): the defaults reveal agreement."""

from dataclasses import dataclass

from annotate.access import project_items
from annotate.models import Item

from .cache import agreement_report
from .metrics import planning
from .specs import SpecError

DEFAULT_KAPPA = 0.6
PAGE_REPLICATES = 400
MAX_CATEGORIES = 500


@dataclass
class PlanInputs:
    dimension: str
    level: int
    kappa: float
    prevalences: list[float]
    labels: list[str]
    half_width: float
    confidence: float
    simulate: bool
    null_kappa: float | None = None
    power: float = 0.8
    tails: int = 2


def _float(value, name: str, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"'{name}' must be a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise SpecError(f"'{name}' must be a finite number.")
    return number


def _level(report, query):
    """The dimension and level asked for (default: the first dimension's full path)."""
    if not report.dimensions:
        raise SpecError("The project has no dimensions to plan for.")
    key = query.get("dimension") or report.dimensions[0].key
    dimension = next((d for d in report.dimensions if d.key == key), None)
    if dimension is None:
        names = ", ".join(d.key for d in report.dimensions)
        raise SpecError(f"No dimension '{key}'; the project's are: {names}.")
    raw = query.get("level")
    if raw in (None, ""):
        return dimension, dimension.levels[-1]
    try:
        wanted = int(raw)
    except (TypeError, ValueError):
        raise SpecError("'level' must be a whole number (1 = top).") from None
    level = next((lv for lv in dimension.levels if lv.level == wanted), None)
    if level is None:
        raise SpecError(f"Dimension '{key}' has levels 1 to {len(dimension.levels)}.")
    return dimension, level


def observed_prevalences(level) -> tuple[list[str], list[float]]:
    """Each category's share of the ratings paired so far at ``level`` (both coders'
    margins pooled); empty before any pair."""
    matrix = level.matrix or []
    total = sum(sum(row) for row in matrix)
    if not total:
        return [], []
    shares = [
        (sum(matrix[i]) + sum(row[i] for row in matrix)) / (2 * total) for i in range(len(matrix))
    ]
    return list(level.labels), shares


def parse_inputs(project, query, report) -> tuple[PlanInputs, object]:
    """The planner's inputs from a query (``dimension``, ``level``, ``kappa``,
    ``prevalences`` as comma-separated shares or counts, ``half_width``, ``confidence``,
    ``simulate``), defaults from ``report`` and the project; SpecError names a bad one."""
    dimension, level = _level(report, query)
    observed = level.summary.get("kappa")
    default_kappa = observed if observed is not None and 0 <= observed < 1 else DEFAULT_KAPPA
    labels, shares = observed_prevalences(level)
    raw = query.get("prevalences")
    if raw not in (None, ""):
        parts = [part.strip() for part in str(raw).split(",") if part.strip()]
        if len(parts) > MAX_CATEGORIES:
            raise SpecError(f"'prevalences' may list at most {MAX_CATEGORIES} categories.")
        shares = [_float(part, "prevalences", 0.0) for part in parts]
        labels = labels if len(labels) == len(shares) else [f"#{i + 1}" for i in range(len(shares))]
    simulate = str(query.get("simulate", "")).lower() in ("1", "true", "yes", "on")
    raw_null = query.get("null_kappa")
    null_kappa = None if raw_null in (None, "") else _float(raw_null, "null_kappa", 0.0)
    tails = query.get("tails") or "2"
    if str(tails) not in ("1", "2"):
        raise SpecError("'tails' must be 1 or 2.")
    inputs = PlanInputs(
        dimension=dimension.key, level=level.level,
        kappa=round(_float(query.get("kappa"), "kappa", default_kappa), 4),
        prevalences=shares, labels=labels,
        half_width=_float(query.get("half_width"), "half_width", project.planner_half_width),
        confidence=_float(query.get("confidence"), "confidence", 0.95), simulate=simulate,
        null_kappa=null_kappa, power=_float(query.get("power"), "power", 0.8), tails=int(tails),
    )  # fmt: skip
    return inputs, level


def _interval_items(inputs, share: float) -> int | None:
    """The goodness-of-fit interval form for one category against the rest: the items for
    the interval around the expected kappa to reach kappa -/+ the target half-width."""
    low, high = inputs.kappa - inputs.half_width, inputs.kappa + inputs.half_width
    try:
        return planning.donner_rotondi_items(
            kappa0=inputs.kappa, kappa_low=low, kappa_high=high if high < 1 else None,
            prevalence=share, alpha=1 - inputs.confidence,
        )  # fmt: skip
    except planning.PlanError:
        return None  # kappa 0, or a bound the two-category model cannot hold


def binary_forms(inputs, plan) -> list[dict]:
    """Per category (against the rest), the two binary forms of Donner & Eliasziw (1992):
    the goodness-of-fit interval (Donner & Rotondi 2010) for the target half-width, and,
    when a null kappa is given, the test of it against the expected kappa (the form Sim &
    Wright 2005 tabulate), at alpha = 1 - confidence. SpecError names a bad input."""
    if inputs.null_kappa is not None and not 0 <= inputs.null_kappa < 1:
        raise SpecError("'null_kappa' must be at least 0 and below 1.")
    if not 0 < inputs.power < 1:
        raise SpecError("'power' must lie between 0 and 1.")
    if inputs.null_kappa is not None and inputs.null_kappa == inputs.kappa:
        raise SpecError("'null_kappa' must differ from the expected kappa.")
    forms = []
    for category in plan.categories:
        test = None
        if inputs.null_kappa is not None:
            test = planning.donner_eliasziw_items(
                kappa0=inputs.null_kappa, kappa1=inputs.kappa, prevalence=category.prevalence,
                alpha=1 - inputs.confidence, power=inputs.power, tails=inputs.tails,
            )  # fmt: skip
        forms.append(
            {"interval_items": _interval_items(inputs, category.prevalence), "test_items": test}
        )
    return forms


def single_coded_items(project) -> int:
    """Items not (yet) labeled by two coders, excluded ones aside."""
    return (
        project_items(project)
        .exclude(state=Item.State.EXCLUDED)
        .filter(submitted_count__lt=2)
        .count()
    )


def build_plan(*, project, query, replicates: int = PAGE_REPLICATES) -> dict:
    """The plan, its simulation when asked for, and the gauge; SpecError on bad input."""
    report = agreement_report(project=project)
    inputs, level = parse_inputs(project, query, report)
    result = {
        "inputs": inputs, "plan": None, "simulation": None,
        "dimensions": [(d.key, d.name, [lv.level for lv in d.levels]) for d in report.dimensions],
    }  # fmt: skip
    study_size = project_items(project).exclude(state=Item.State.EXCLUDED).count()
    try:
        plan = planning.plan_double_coding(
            kappa=inputs.kappa, prevalences=inputs.prevalences, half_width=inputs.half_width,
            confidence=inputs.confidence, study_size=study_size,
        )  # fmt: skip
    except planning.PlanError as error:
        if not inputs.prevalences:
            raise SpecError(
                "No paired ratings yet to take prevalences from: give them as 'prevalences' "
                "(comma-separated shares or counts)."
            ) from error
        raise SpecError(str(error)) from error
    result["plan"] = plan
    result["binary"] = binary_forms(inputs, plan)
    if inputs.simulate and plan.items <= planning.MAX_SIMULATED_ITEMS:
        result["simulation"] = planning.simulate(
            kappa=inputs.kappa, prevalences=inputs.prevalences, items=plan.items,
            replicates=replicates, confidence=inputs.confidence,
        )  # fmt: skip
    summary = level.summary
    result["gauge"] = planning.gauge(
        ci_low=summary.get("ci_low"), ci_high=summary.get("ci_high"),
        items=summary.get("n") or 0, target=inputs.half_width,
        single_coded=single_coded_items(project),
    )  # fmt: skip
    return result
