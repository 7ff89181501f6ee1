"""Machine raters beside the humans (issue #18): each rater's latest finished run against
each annotator, against the annotators' majority and against the final labels, per
dimension and level; its run-to-run agreement over its runs; its bias per category; and
its delegation curve. The statistics are analysis.metrics.machine's; this module reads the
rows and pairs them. The headline agreement (analysis.agreement) stays human-human.

Units: an item's single failure record on one dimension, cut to a level of the category
tree. An item where a side gave several records (or none: out of scope) is left out of
that pairing and counted in `skipped_multi_record`; records of several failures are paired
by content in the human report, which a machine's one-record answer cannot match.
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
    """Single-record labels of one source: {item: {dimension id: category id}}, the items
    skipped for several records, and (machines) {item: {dimension id: confidence}}."""

    labels: dict = field(default_factory=lambda: defaultdict(dict))
    confidence: dict = field(default_factory=lambda: defaultdict(dict))
    skipped: set = field(default_factory=set)


def _single_records(rows, confidence: bool = False) -> Side:
    """rows: (item, record, dimension, category[, confidence])."""
    side = Side()
    records = defaultdict(set)
    for row in rows:
        item, record, dimension, category = row[:4]
        records[item].add(record)
        side.labels[item][dimension] = category
        if confidence:
            side.confidence[item][dimension] = row[4]
    for item, numbers in records.items():
        if len(numbers) > 1:
            side.skipped.add(item)
            side.labels.pop(item, None)
            side.confidence.pop(item, None)
    return side


def _pairs(machine: Side, other: Side, tree, level: int) -> list[tuple[int, int]]:
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
        for key, tree in trees.items():
            for level in tree.levels():
                majority = _majority(annotators, voters, tree, level)
                sides = [
                    ("final", "final labels", final),
                    ("majority", "human majority", majority),
                    *humans,
                ]
                for versus, label, other in sides:
                    pairs = _pairs(machine, other, tree, level)
                    rows.append(
                        {
                            "dimension": key,
                            "level": level,
                            "versus": versus,
                            "versus_label": label,
                            **pair_agreement(pairs),
                        }
                    )
                for category, shares in category_bias(_pairs(machine, final, tree, level)).items():
                    bias.append(
                        {
                            "dimension": key,
                            "level": level,
                            "category": tree.paths[category],
                            **shares,
                        }
                    )
            curves.append({"dimension": key, "points": _curve(machine, final, tree)})
        curves.append({"dimension": "all", "points": _curve_all(machine, final, trees)})
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
                "skipped_multi_record": len(machine.skipped | final.skipped),
                "rows": rows,
                "bias": bias,
                "delegation": curves,
                "stability": _stability(project, rater, trees),
            }
        )
    return {"raters": raters, "thresholds_basis": "confidence of the rater's label"}


def _curve(machine: Side, final: Side, tree) -> list[dict]:
    dim = tree.dimension.pk
    confidence, correct = [], []
    for item, labels in machine.labels.items():
        truth = final.labels.get(item, {}).get(dim)
        if truth is None or dim not in labels:
            continue
        confidence.append(machine.confidence[item].get(dim) or 0.0)
        correct.append(labels[dim] == truth)
    return delegation_curve(confidence, correct)


def _curve_all(machine: Side, final: Side, trees) -> list[dict]:
    """Whole items: the lowest confidence of the item's labels, correct when every
    dimension the final label has matches (a dimension the machine left out is not a
    match, and counts with confidence 0)."""
    confidence, correct = [], []
    for item, labels in machine.labels.items():
        truth = final.labels.get(item)
        if not truth:
            continue
        confidence.append(min((machine.confidence[item].get(d) or 0.0) for d in truth))
        correct.append(all(labels.get(d) == c for d, c in truth.items()))
    return delegation_curve(confidence, correct)


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
