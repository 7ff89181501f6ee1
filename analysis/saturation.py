"""Saturation of a project's codebook (issue #17): items in the order they were first
labeled, cut into batches of the project's batch size; per dimension (at a level of its
tree), the categories the annotators used for the first time in each batch; and the
stopping rule of Guest, Namey & Chen (2020) over those counts (analysis.metrics.saturation).

Only complete batches count: the last, partial one is reported as waiting. Annotators'
own labels are read (AnnotationLabel), every annotator's, so the page is for the readers of
agreement (leads and owners) alone."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Min

from annotate.access import project_annotations, project_rows
from annotate.models import AnnotationLabel

from .codebook import load_codebook
from .metrics.saturation import SaturationError, Verdict, new_per_batch, stopping_rule
from .specs import SpecError

MAX_BATCH_SIZE = 10_000


@dataclass
class DimensionSaturation:
    key: str
    name: str
    level: int | None
    new: list[int]
    new_names: list[list[str]]
    cumulative: list[int]
    verdict: Verdict


@dataclass
class Saturation:
    batch_size: int
    batches: int
    labeled_items: int
    waiting: int  # items labeled past the last complete batch
    dimensions: list[DimensionSaturation] = field(default_factory=list)


def _int(value, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SpecError(f"'{name}' must be a whole number.") from None
    if not low <= number <= high:
        raise SpecError(f"'{name}' must be between {low} and {high}.")
    return number


def parse_options(query, project) -> dict:
    """The rule's parameters from a query (``batch_size``, ``base``, ``run``,
    ``threshold``, ``level``); SpecError names a bad one."""
    options = {
        "batch_size": _int(query.get("batch_size"), "batch_size",
                           project.saturation_batch_size, 1, MAX_BATCH_SIZE),
        "base": _int(query.get("base"), "base", 4, 1, 1000),
        "run": _int(query.get("run"), "run", 2, 1, 1000),
        "level": _int(query.get("level"), "level", 0, 0, 50) or None,
    }  # fmt: skip
    raw = query.get("threshold")
    try:
        threshold = 0.05 if raw in (None, "") else float(raw)
    except (TypeError, ValueError):
        raise SpecError("'threshold' must be a number such as 0.05.") from None
    if not 0 <= threshold < 1:
        raise SpecError("'threshold' must be at least 0 and below 1 (0.05 is 5%).")
    options["threshold"] = threshold
    return options


def item_order(project) -> list[int]:
    """Item ids in the order they were first labeled (their first annotation's time)."""
    firsts = (
        project_annotations(project)
        .values("item_id")
        .annotate(first=Min("created_at"))
        .order_by("first", "item_id")
    )
    return [row["item_id"] for row in firsts]


def build_saturation(*, project, batch_size: int, base: int = 4, run: int = 2,
                     threshold: float = 0.05, level: int | None = None) -> Saturation:  # fmt: skip
    """New categories per complete batch and dimension, with the stopping rule's verdict.
    Read-only."""
    order = item_order(project)
    rank = {item_id: index for index, item_id in enumerate(order)}
    batches = len(order) // batch_size
    trees = load_codebook(project)
    used = (
        project_rows(AnnotationLabel, project)
        .order_by()  # the default order's columns would void the DISTINCT
        .values_list("dimension_id", "category_id", "item_id")
        .distinct()
    )
    first: dict[int, dict[int, int]] = defaultdict(dict)  # dimension -> code -> batch
    by_dimension_id = {tree.dimension.pk: tree for tree in trees.values()}
    for dimension_id, category_id, item_id in used.iterator():
        tree = by_dimension_id.get(dimension_id)
        if tree is None or item_id not in rank or category_id not in tree.lineage:
            continue
        code = tree.ancestor(category_id, level)
        batch = rank[item_id] // batch_size + 1
        seen = first[dimension_id].get(code)
        if seen is None or batch < seen:
            first[dimension_id][code] = batch
    curves = []
    for tree in trees.values():
        codes = first.get(tree.dimension.pk, {})
        new = new_per_batch(codes.values(), batches)
        names = [[] for _ in range(batches)]
        for code in tree.ordered(codes):
            if codes[code] <= batches:
                names[codes[code] - 1].append(tree.paths[code])
        cumulative, total = [], 0
        for count in new:
            total += count
            cumulative.append(total)
        try:
            verdict = stopping_rule(new, base=base, run=run, threshold=threshold)
        except SaturationError as error:
            raise SpecError(str(error)) from error
        shown_level = None if level is None or level >= tree.depth else level
        curves.append(DimensionSaturation(
            tree.dimension.key, tree.dimension.name, shown_level, new, names, cumulative,
            verdict,
        ))  # fmt: skip
    waiting = len(order) - batches * batch_size
    return Saturation(batch_size, batches, len(order), waiting, dimensions=curves)


def saturation_table(saturation: Saturation) -> tuple[list[str], list[list]]:
    """One row per dimension and batch: the table's header and rows (CSV, LaTeX)."""
    header = ["dimension", "batch", "items", "new categories", "cumulative", "new names"]
    rows = []
    for d in saturation.dimensions:
        for index, count in enumerate(d.new):
            items = (index + 1) * saturation.batch_size
            rows.append([d.key, index + 1, items, count, d.cumulative[index],
                         "; ".join(d.new_names[index])])  # fmt: skip
    return header, rows
