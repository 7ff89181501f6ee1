"""Cross-tabs of failure records by two SPECs, counted by the database (GROUP BY) and
rolled up to category levels in Python from the aggregate rows.

A failure record is one record of an item's final label (or of one annotator's
annotation): an issue with two final records counts twice. Out-of-scope final labels carry
no records and count nowhere.
"""

from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Count, F, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat, ExtractQuarter, ExtractYear

from annotate.access import all_repository_views, labels_in_group, source_label_rows

from . import metrics
from .codebook import DimensionTree, load_codebook
from .fix_specs import FIX_KINDS, fix_label, fixed_expression, time_to_fix_expression
from .specs import Source, Spec, SpecError

NONE_LABEL = "(none)"


@dataclass
class CrossTab:
    rows: list[str]
    cols: list[str]
    counts: list[list[int]]
    row_spec: str = ""
    col_spec: str = ""
    # Category ids of dimension axes (for links and treemaps); None for attributes.
    row_ids: list | None = None
    col_ids: list | None = None
    extras: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    def percentages(self) -> list[list[float]]:
        total = self.total
        return [[100.0 * c / total if total else 0.0 for c in row] for row in self.counts]


def source_labels(project, source: Source, *, user=None, settled_only: bool = False):
    """The label rows of ``source``: final records, or one annotator's own records.
    ``user`` is the resolved annotator for an annotator source."""
    final = source.kind == "final"
    return source_label_rows(project, final=final, user=user, settled_only=settled_only)


def _partner(source: Source) -> str:
    """The relation from a label to the other labels of the same record set."""
    return "final__labels" if source.kind == "final" else "annotation__labels"


def _attribute_expressions(spec: Spec) -> list:
    """Database expressions whose values identify an item attribute's value. The group and
    the project's metadata of a repository are grouped by its id and named in Python
    (_ProjectViews): as a subquery per label they were most of a cold page (issue #15)."""
    issue = "item__issue__"
    if spec.kind == "group":
        return [F(issue + "repository_id")]
    if spec.kind == "repo":
        return [Concat(issue + "repository__owner", Value("/"), issue + "repository__name")]
    if spec.kind == "state":
        return [F(issue + "state")]
    if spec.kind == "year":
        return [ExtractYear(issue + "created_at")]
    if spec.kind == "quarter":
        return [ExtractYear(issue + "created_at"), ExtractQuarter(issue + "created_at")]
    if spec.kind == "fixed":
        return [fixed_expression()]
    if spec.kind == "time_to_fix":
        return [time_to_fix_expression()]
    if spec.kind == "meta":
        # Per-item metadata first, then the project's own of the repository (_ProjectViews).
        return [KeyTextTransform(spec.key, "item__metadata"), F(issue + "repository_id")]
    raise SpecError(f"Unknown SPEC kind '{spec.kind}'.")


class _ProjectViews:
    """The project's own group or metadata value of each repository, read once per axis:
    a repository without a view has no group ('') and no metadata (None), as mining's
    project_view subquery reads them."""

    def __init__(self, project, spec: Spec):
        self.spec = spec
        views = all_repository_views(project).order_by()
        if spec.kind == "group":
            self.values = dict(views.values_list("repository_id", "group"))
        else:
            value = KeyTextTransform(spec.key, "metadata")
            self.values = dict(views.annotate(value=value).values_list("repository_id", "value"))

    def __call__(self, values: tuple) -> tuple:
        if self.spec.kind == "group":
            (repository_id,) = values
            return (self.values.get(repository_id, ""),)
        own, repository_id = values
        return (own if own is not None else self.values.get(repository_id),)


def _attribute_label(spec: Spec, values: tuple):
    """(sort key, label) of an attribute value."""
    if any(v is None or v == "" for v in values):
        return ((1, ""), NONE_LABEL)
    if spec.kind == "quarter":
        return ((0, values), f"{values[0]}-Q{values[1]}")
    if spec.kind in FIX_KINDS:
        return fix_label(spec.kind, values[0])
    return ((0, values[0]), str(values[0]))


def resolve_dimension(trees: dict[str, DimensionTree], spec: Spec, name: str) -> DimensionTree:
    tree = trees.get(spec.key)
    if tree is None:
        known = ", ".join(trees) or "none"
        raise SpecError(f"'{name}={spec}': no dimension '{spec.key}' (this project has {known}).")
    if spec.level is not None and spec.level > tree.depth:
        raise SpecError(
            f"'{name}={spec}': dimension '{spec.key}' has {tree.depth} level(s), not {spec.level}."
        )
    return tree


def _on_dimension(labels, partner: str, dimension, first: bool):
    """`labels` kept to the records labeled on `dimension`, and the expression of that
    label's category: the labels themselves for a table's first dimension, the record's
    partner label for the next (the same record of the same annotation or final label)."""
    if first:
        return labels.filter(dimension=dimension), F("category_id")
    same_record = {f"{partner}__record": F("record"), f"{partner}__dimension": dimension}
    return labels.filter(**same_record), F(f"{partner}__category_id")


class _Axis:
    """One SPEC bound to the project: how to group by it and how to label its values."""

    def __init__(self, spec: Spec, tree: DimensionTree | None, width: int, resolve=None):
        self.spec, self.tree, self.width, self.resolve = spec, tree, width, resolve
        self.keys: dict = {}  # label key -> (sort key, label, category id)

    def bind(self, values: tuple):
        if self.tree is not None:
            (category_id,) = values
            cid = self.tree.ancestor(category_id, self.spec.level)
            self.keys[cid] = (self.tree.sort_keys[cid], self.tree.paths[cid], cid)
            return cid
        if self.resolve is not None:
            values = self.resolve(values)
        sort_key, label = _attribute_label(self.spec, values)
        self.keys[label] = (sort_key, label, None)
        return label

    def ordered(self) -> list:
        return sorted(self.keys, key=lambda k: self.keys[k][0])


def build_crosstab(
    *,
    project,
    rows: Spec,
    cols: Spec | None,
    source: Source,
    user=None,
    settled_only: bool = False,
    group: str | None = None,
) -> CrossTab:
    """Failure records by ``rows`` x ``cols`` (one column "records" when ``cols`` is None),
    with the chi-square test of independence. ``group`` keeps one repository group. One
    GROUP BY query (plus the codebook's two); raises SpecError naming a bad SPEC."""
    trees = load_codebook(project)
    specs = [("rows", rows)] + ([("cols", cols)] if cols is not None else [])
    labels = source_labels(project, source, user=user, settled_only=settled_only)
    if group is not None:
        labels = labels_in_group(labels, group)
    partner = _partner(source)
    axes, fields, dims_seen = [], [], 0
    for name, spec in specs:
        if spec.kind == "dim":
            tree = resolve_dimension(trees, spec, name)
            labels, category = _on_dimension(labels, partner, tree.dimension, dims_seen == 0)
            fields.append(category)
            dims_seen += 1
            axes.append(_Axis(spec, tree, 1))
        else:
            expressions = _attribute_expressions(spec)
            fields.extend(expressions)
            views = _ProjectViews(project, spec) if spec.kind in ("group", "meta") else None
            axes.append(_Axis(spec, None, len(expressions), views))
    if dims_seen:
        measure = Count("id")
    else:
        # No dimension names the records: count distinct (item, record) pairs, keyed as one
        # number (records are below 2**16): a text key cost 3x as much at 85,000 records.
        record_key = Cast("item_id", BigIntegerField()) * Value(65536) + F("record")
        measure = Count(record_key, distinct=True)
    aggregate = labels.values_list(*fields).annotate(n=measure).order_by()
    cells: dict = {}
    for row in aggregate:
        values, n = row[:-1], row[-1]
        key, start = [], 0
        for axis in axes:
            key.append(axis.bind(tuple(values[start : start + axis.width])))
            start += axis.width
        cell = tuple(key) if cols is not None else (key[0], "records")
        cells[cell] = cells.get(cell, 0) + n
    return _assemble(axes, cells, rows, cols)


def _assemble(axes, cells, rows: Spec, cols: Spec | None) -> CrossTab:
    row_axis = axes[0]
    row_keys = row_axis.ordered()
    col_keys = axes[1].ordered() if cols is not None else ["records"]
    counts = [[cells.get((r, c), 0) for c in col_keys] for r in row_keys]
    table = CrossTab(
        rows=[row_axis.keys[r][1] for r in row_keys],
        cols=[axes[1].keys[c][1] for c in col_keys] if cols is not None else ["records"],
        counts=counts,
        row_spec=str(rows),
        col_spec=str(cols) if cols is not None else "",
        row_ids=[row_axis.keys[r][2] for r in row_keys] if row_axis.tree else None,
        col_ids=(
            [axes[1].keys[c][2] for c in col_keys]
            if cols is not None and axes[1].tree is not None
            else None
        ),
    )
    if cols is not None:
        table.extras["chi2"] = metrics.chi_square(counts).as_dict()
    return table


def shared_issues(
    *,
    project,
    source: Source,
    user=None,
    settled_only: bool = False,
    group: str | None = None,
    dimensions=(),
) -> dict:
    """How many issues contribute more than one failure record, and how many records those
    issues carry: such records share an issue and are not independent observations, which
    the chi-square test assumes. ``dimensions``: those of the table's dimension axes; only
    the records the table counts (labeled on each) are counted, as a record without a root
    cause is in no symptom x root cause cell. One query."""
    labels = source_labels(project, source, user=user, settled_only=settled_only)
    if group is not None:
        labels = labels_in_group(labels, group)
    partner = _partner(source)
    for index, dimension in enumerate(dimensions):
        labels, _ = _on_dimension(labels, partner, dimension, index == 0)
    # Two distinct records (numbers >= 0) mean one numbered above 0: only the items with such
    # a label are counted (the others cannot qualify), instead of every item's records.
    several = labels.filter(record__gt=0).values("item_id")
    per_item = (
        labels.filter(item_id__in=several)
        .values("item_id")
        .annotate(records=Count("record", distinct=True))
    )
    shared = list(per_item.filter(records__gt=1).order_by().values_list("records", flat=True))
    return {"issues": len(shared), "records": sum(shared)}


def table_dimensions(trees: dict[str, DimensionTree], *specs) -> list:
    """The dimensions of the dimension SPECs among ``specs`` (for shared_issues); ``trees``:
    the project's codebook (load_codebook)."""
    return [trees[s.key].dimension for s in specs if s is not None and s.kind == "dim"]


def correlation_matrix(table: CrossTab) -> metrics.Correlation:
    """Pearson's r between the rows' distributions over the columns."""
    return metrics.distribution_correlation(table.rows, table.counts)
