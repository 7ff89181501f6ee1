"""Machine raters beside the humans (issue #18): each rater's latest finished run against
each annotator, against the annotators' majority and against the final labels, per
dimension and level; its run-to-run agreement over its runs; its bias per category; and
its delegation curve. The statistics are analysis.metrics.machine's; this module reads the
rows and pairs them. The headline agreement (analysis.agreement) stays human-human.

Units: a pair of failure records on one dimension, cut to a level of the category tree.
Against the final labels and each annotator, an item's records are paired by content as
the human-human agreement pairs them (annotate.adjudication.comparison.align_records:
identical records first, then the matching with the fewest disagreeing dimensions, on the
leaf categories); a label whose record has no partner, or whose partner lacks the
dimension, is left out and counted (`unpaired`), as the human report's default does. An
item out of scope on a side has no records there and gives no unit. The human majority and
the run-to-run agreement stay single-record: a majority of several annotators' records
would need their records grouped first, which a vote over groups of unequal size does not
make sound; their items with several records are counted (`skipped_multi_record`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from annotate.access import (
    final_records_in_scope,
    machine_labels,
    project_raters,
    project_rows,
    report_names,
)
from annotate.adjudication.comparison import align_records
from annotate.models import (
    Annotation,
    AnnotationLabel,
    AnnotationRoundLabel,
    Item,
    RaterRun,
)
from annotate.raters.runs import latest_runs

from .codebook import load_codebook
from .metrics.machine import category_bias, delegation_curve, pair_agreement, run_stability


@dataclass
class Side:
    """The labels of one source. Single-record items: {item: {dimension id: category id}}
    and (machines) {item: {dimension id: confidence}}, the items with several records
    skipped there. Every item: its records in order, [{dimension id: category id}], and
    (machines) their confidences."""

    labels: dict = field(default_factory=lambda: defaultdict(dict))
    confidence: dict = field(default_factory=lambda: defaultdict(dict))
    skipped: set = field(default_factory=set)
    records: dict = field(default_factory=dict)
    record_confidence: dict = field(default_factory=dict)


def _single_records(rows, confidence: bool = False) -> Side:
    """rows: (item, record, dimension, category[, confidence])."""
    side = Side()
    records = defaultdict(set)
    by_record: dict = defaultdict(dict)
    for row in rows:
        item, record, dimension, category = row[:4]
        records[item].add(record)
        side.labels[item][dimension] = category
        by_record[(item, record)][dimension] = (category, row[4] if confidence else None)
        if confidence:
            side.confidence[item][dimension] = row[4]
    for item, numbers in records.items():
        ordered = [by_record[(item, n)] for n in sorted(numbers)]
        side.records[item] = [{d: c for d, (c, _) in r.items()} for r in ordered]
        side.record_confidence[item] = [{d: p for d, (_, p) in r.items()} for r in ordered]
        if len(numbers) > 1:
            side.skipped.add(item)
            side.labels.pop(item, None)
            side.confidence.pop(item, None)
    return side


@dataclass
class Paired:
    """The machine's records paired by content with another side's, per dimension:
    (machine category, their category, machine confidence) on the leaves, and how many
    labels were left without a partner."""

    units: dict = field(default_factory=lambda: defaultdict(list))
    unpaired: Counter = field(default_factory=Counter)
    # item -> whether every record pairs one for one and agrees on every dimension the
    # other side gives, and the machine's lowest confidence on the item.
    whole: dict = field(default_factory=dict)
    multi: set = field(default_factory=set)


def _paired(machine: Side, other: Side) -> Paired:
    out = Paired()
    for item, mine in machine.records.items():
        theirs = other.records.get(item)
        if not theirs:
            continue
        if len(mine) > 1 or len(theirs) > 1:
            out.multi.add(item)
        pairs = align_records(mine, theirs)
        confidence = machine.record_confidence[item]
        right = len(mine) == len(theirs)
        for i, j in pairs:
            for dim in set(mine[i]) | set(theirs[j]):
                if dim in mine[i] and dim in theirs[j]:
                    unit = (mine[i][dim], theirs[j][dim], confidence[i][dim] or 0.0)
                    out.units[dim].append(unit)
                else:
                    out.unpaired[dim] += 1
            right = right and all(mine[i].get(d) == c for d, c in theirs[j].items())
        for i in set(range(len(mine))) - {i for i, _ in pairs}:
            out.unpaired.update(mine[i].keys())
        for j in set(range(len(theirs))) - {j for _, j in pairs}:
            out.unpaired.update(theirs[j].keys())
        lowest = min((p or 0.0 for record in confidence for p in record.values()), default=0.0)
        missing = any(d not in mine[i] for i, j in pairs for d in theirs[j])
        out.whole[item] = (0.0 if missing else lowest, right)
    return out


def _record_pairs(paired: Paired, tree, level: int) -> list[tuple[int, int]]:
    return [
        (tree.ancestor(mine, level), tree.ancestor(theirs, level))
        for mine, theirs, _ in paired.units.get(tree.dimension.pk, [])
    ]


def _pairs(machine: Side, other: Side, tree, level: int) -> list[tuple[int, int]]:
    """Single-record items only (the human majority's units)."""
    dim = tree.dimension.pk
    pairs = []
    for item, labels in machine.labels.items():
        theirs = other.labels.get(item, {}).get(dim)
        mine = labels.get(dim)
        if theirs is not None and mine is not None:
            pairs.append((tree.ancestor(mine, level), tree.ancestor(theirs, level)))
    return pairs


def _majority(annotators: dict[int, Side], voters: Counter, tree, level: int) -> Side:
    """Per item, the category of `tree`'s dimension at `level` that more than half of the
    item's annotators chose (`voters`: annotators per item, those out of scope or with
    several records included); no majority, no unit. Cut to the level first: two
    annotators who chose two leaves under one top-level category agree at level 1."""
    side = Side()
    dim = tree.dimension.pk
    votes: dict[int, Counter] = defaultdict(Counter)
    for human in annotators.values():
        for item, labels in human.labels.items():
            if dim in labels:
                votes[item][tree.ancestor(labels[dim], level)] += 1
    for item, counts in votes.items():
        category, count = counts.most_common(1)[0]
        if count * 2 > voters[item]:
            side.labels[item][dim] = category
    return side


def build_rater_report(project) -> dict:
    """The report the API and the page show (see the module's docstring)."""
    trees = load_codebook(project)
    latest = latest_runs(project)
    # What each annotator chose alone, as the headline agreement reads it: an annotation
    # revised after a discussion counts by its first round (AnnotationRound 1).
    fields = ("annotator_id", "item_id", "record", "dimension_id", "category_id")
    human_rows = (
        project_rows(AnnotationLabel, project)
        .exclude(annotation__rounds__round=1)
        .values_list(*fields)
        .order_by()
        .union(
            project_rows(AnnotationRoundLabel, project)
            .filter(snapshot__round=1)
            .values_list(*fields)
            .order_by(),
            all=True,
        )
    )
    by_annotator: dict[int, list] = defaultdict(list)
    for annotator, *row in human_rows.iterator(chunk_size=20_000):
        by_annotator[annotator].append(row)
    annotators = {user: _single_records(rows) for user, rows in by_annotator.items()}
    names = report_names(project, list(annotators))
    voters = Counter(project_rows(Annotation, project).values_list("item_id", flat=True))
    final = _single_records(
        final_records_in_scope(project)
        .filter(item__state=Item.State.SETTLED)
        .values_list("item_id", "record", "dimension_id", "category_id")
    )
    raters = []
    for rater in project_raters(project).order_by("name"):
        run = latest.get(rater.pk)
        if run is None:
            raters.append({"id": rater.pk, "name": rater.name, "kind": rater.kind, "run": None})
            continue
        labels = (
            machine_labels(project)
            .filter(run=run)
            .values_list("item_id", "record", "dimension_id", "category_id", "confidence")
        )
        machine = _single_records(labels.iterator(chunk_size=20_000), confidence=True)
        humans = [
            (f"annotator:{names[u]}", names[u], annotators[u])
            for u in sorted(annotators, key=lambda u: names[u])
        ]
        rows, bias, curves = [], [], []
        paired = {"final": _paired(machine, final)}
        paired.update((versus, _paired(machine, side)) for versus, _, side in humans)
        for key, tree in trees.items():
            for level in tree.levels():
                majority = _majority(annotators, voters, tree, level)
                sides = [
                    ("final", "final labels", final),
                    ("majority", "human majority", majority),
                    *humans,
                ]
                for versus, label, other in sides:
                    if versus == "majority":
                        pairs, unpaired = _pairs(machine, other, tree, level), None
                    else:
                        pairs = _record_pairs(paired[versus], tree, level)
                        unpaired = paired[versus].unpaired[tree.dimension.pk]
                    rows.append(
                        {
                            "dimension": key,
                            "level": level,
                            "versus": versus,
                            "versus_label": label,
                            **pair_agreement(pairs),
                            "unpaired": unpaired,
                        }
                    )
                final_pairs = _record_pairs(paired["final"], tree, level)
                for category, shares in category_bias(final_pairs).items():
                    bias.append(
                        {
                            "dimension": key,
                            "level": level,
                            "category": tree.paths[category],
                            **shares,
                        }
                    )
            curves.append({"dimension": key, "points": _curve(paired["final"], tree)})
        curves.append({"dimension": "all", "points": _curve_all(paired["final"])})
        raters.append(
            {
                "id": rater.pk,
                "name": rater.name,
                "kind": rater.kind,
                "run": run.number,
                "codebook_version": run.codebook_version,
                "counts": {
                    name: getattr(run, name)
                    for name in (
                        "items_done",
                        "failed_items",
                        "invalid_answers",
                        "quotes_not_found",
                        "prompt_tokens",
                        "completion_tokens",
                        "seconds",
                    )
                },
                "training": run.training,
                "multi_record_items": len(paired["final"].multi),
                "skipped_multi_record": len(
                    machine.skipped.union(*(side.skipped for side in annotators.values()))
                ),
                "rows": rows,
                "bias": bias,
                "delegation": curves,
                "stability": _stability(project, rater, trees),
            }
        )
    return {"raters": raters, "thresholds_basis": "confidence of the rater's label"}


def _curve(paired: Paired, tree) -> list[dict]:
    """One dimension's units paired with the final labels: the machine label's confidence
    and whether it is the final category."""
    units = paired.units.get(tree.dimension.pk, [])
    return delegation_curve([c for _, _, c in units], [m == f for m, f, _ in units])


def _curve_all(paired: Paired) -> list[dict]:
    """Whole items: the lowest confidence of the machine's labels on the item (0 when a
    paired record lacks a dimension the final record has), right when its records pair one
    for one with the final ones and agree on every dimension they give."""
    points = list(paired.whole.values())
    return delegation_curve([c for c, _ in points], [right for _, right in points])


def _stability(project, rater, trees) -> list[dict]:
    """Fleiss' kappa over the rater's finished runs of the latest codebook version that
    every run labeled (one record each)."""
    runs = list(rater.runs.filter(status=RaterRun.Status.SUCCEEDED).order_by("-number"))
    if runs:
        runs = [r for r in runs if r.codebook_version == runs[0].codebook_version]
    if len(runs) < 2:
        return []
    rows = (
        machine_labels(project)
        .filter(run__in=runs)
        .values_list("run_id", "item_id", "record", "dimension_id", "category_id")
    )
    per_run: dict[int, list] = defaultdict(list)
    for run_id, *row in rows.iterator(chunk_size=20_000):
        per_run[run_id].append(row)
    sides = [_single_records(per_run[run.pk]) for run in runs]
    out = []
    for key, tree in trees.items():
        dim = tree.dimension.pk
        items = set.intersection(
            *({i for i, labels in side.labels.items() if dim in labels} for side in sides)
        )
        for level in tree.levels():
            units = [
                [tree.ancestor(side.labels[i][dim], level) for side in sides] for i in sorted(items)
            ]
            out.append({"dimension": key, "level": level, **run_stability(units)})
    return out
