"""The built-in rater's run: read the project's item texts and settled records, learn
(annotate.raters.learning: cross-validated first, its accuracy stored on the run before any
label is written), then write one record per item in chunks, each chunk one transaction
with its RaterItem rows, so a run that stops goes on where it was."""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from annotate.access import (
    final_record_labels,
    project_categories,
    project_dimensions,
    project_items,
)
from annotate.bulk import copy_rows
from annotate.models import Item, RaterItem, RaterLabel, RaterRun, RaterTrainingSet
from annotate.raters import learning
from annotate.raters.runs import RunFailed, items_to_rate, note_progress
from annotate.raters.texts import item_texts

CHUNK = 5_000


def _depths(categories: dict, dimensions: list) -> dict[int, int]:
    """Each dimension's depth (by id) over its active categories ({id: [dim, path, retired]})."""
    depths: dict[int, int] = {}
    for dim, path, retired in categories.values():
        if not retired:
            depths[dim] = max(depths.get(dim, 0), path.count(learning.SEPARATOR) + 1)
    return {d.pk: depths[d.pk] for d in dimensions if d.pk in depths}


def freeze_training_set(run: RaterRun, project, item_ids: list[int]) -> dict:
    """What the run learns from, read now and stored (RaterTrainingSet): the items whose
    text it reads, in order, every in-scope final record of the settled ones, the
    dimensions' depths and the categories' paths. Its summary goes in the run's stored
    configuration (`trained_on`)."""
    dimensions = list(project_dimensions(project))
    categories = {
        str(pk): [dim, path, retired]
        for pk, dim, path, retired in project_categories(project).values_list(
            "pk", "dimension_id", "path", "retired"
        )
    }
    depths = _depths(categories, dimensions)
    dims = [[d.pk, d.key, depths[d.pk]] for d in dimensions if d.pk in depths]
    position = {item_id: at for at, item_id in enumerate(item_ids)}
    rows = (
        final_record_labels(project)
        .filter(item__state=Item.State.SETTLED, final__out_of_scope=False)
        .values_list("item_id", "record", "dimension_id", "category_id")
    )
    found: dict[tuple[int, int], dict[int, int]] = {}
    for item_id, record, dim, category in rows.iterator(chunk_size=20_000):
        if item_id in position:
            found.setdefault((item_id, record), {})[dim] = category
    order = sorted(found, key=lambda key: (position[key[0]], key[1]))
    records = [[i, r, [found[(i, r)].get(dim) for dim, _, _ in dims]] for i, r in order]
    data = {"items": item_ids, "dimensions": dims, "categories": categories, "records": records}
    frozen, created = RaterTrainingSet.objects.get_or_create(run=run, defaults={"data": data})
    if created:
        digest = hashlib.sha256(json.dumps(records).encode()).hexdigest()
        trained_on = {
            "items": len(item_ids),
            "settled_items": len({i for i, _ in found}),
            "records": len(records),
            "codebook_version": project.codebook_version,
            "frozen_at": timezone.now().isoformat(timespec="seconds"),
            "records_sha256": digest,
        }
        run.config = {**run.config, "trained_on": trained_on}
        RaterRun.objects.filter(pk=run.pk).update(config=run.config)
    return frozen.data


def _texts(run: RaterRun, project):
    """The run's item texts and its frozen training set (frozen now on the first pass)."""
    data = RaterTrainingSet.objects.filter(run=run).values_list("data", flat=True).first()
    if data is None:
        texts = item_texts(items_to_rate_all(run))
        return texts, freeze_training_set(run, project, [t.item_id for t in texts])
    # Resumed: the very items the run started with, in the same order (an item imported
    # since is not this run's; one excluded since is still read, as it was).
    by_id = {t.item_id: t for t in item_texts(project_items(project).order_by("position", "pk"))}
    missing = [i for i in data["items"] if i not in by_id]
    if missing:
        raise RunFailed(
            f"{len(missing)} item(s) this run learned from were deleted since it started; "
            "start a new run."
        )
    return [by_id[i] for i in data["items"]], data


def rate(run: RaterRun) -> None:
    """Learn and label every item the run has not done; RunFailed when the project has too
    few settled items to learn from. A resumed run learns from the training set frozen when
    it started (RaterTrainingSet), so it rates with the same model."""
    project = run.rater.project
    texts, data = _texts(run, project)
    index = {text.item_id: at for at, text in enumerate(texts)}
    dims = data["dimensions"]
    paths = {int(pk): path for pk, (_, path, _) in data["categories"].items()}
    categories = {
        (dim, path): int(pk) for pk, (dim, path, retired) in data["categories"].items()
        if not retired
    }  # fmt: skip
    records = [
        (index[item_id], {key: paths[c] for (_, key, _), c in zip(dims, cats, strict=True) if c})
        for item_id, _, cats in data["records"]
    ]
    depths = {key: depth for _, key, depth in dims}
    try:
        # The seed the run stored when it started: the rater's may have changed since.
        learned = learning.learn(
            [text.plain() for text in texts], records, depths, seed=run.config["seed"] or 0
        )
    except learning.NotEnoughLabels as error:
        raise RunFailed(str(error)) from None
    RaterRun.objects.filter(pk=run.pk).update(
        training={
            key: {str(k): v for k, v in levels.items()} for key, levels in learned.accuracy.items()
        }
    )
    pending = set(items_to_rate(run).values_list("pk", flat=True))
    todo = [at for at, text in enumerate(texts) if text.item_id in pending]
    by_key = {key: dim for dim, key, _ in dims}
    for start in range(0, len(todo), CHUNK):
        _write_chunk(run, todo[start : start + CHUNK], texts, learned, by_key, categories)


def items_to_rate_all(run: RaterRun):
    """Every item of the project the rater reads (its whole text set: the vectorizer is
    fitted on all of it), not only those this run still has to do."""
    items = project_items(run.rater.project).exclude(state=Item.State.EXCLUDED)
    return items.order_by("position", "pk")


def _write_chunk(run, positions, texts, learned, by_key, categories) -> None:
    labels = []
    for at in positions:
        text = texts[at]
        plain = text.plain()
        for key, prediction in learned.predictions.items():
            dimension = by_key[key]
            category = categories.get((dimension, str(prediction.paths[at])))
            if category is None:
                continue
            quote = learning.quote_around(plain, prediction.evidence_terms[at])
            # A slice of the item's own text: found verbatim by construction (the tests
            # check it with texts.quote_found); '' when no word weighed for the choice.
            found = bool(quote)
            labels.append(
                (
                    run.pk,
                    text.item_id,
                    0,
                    dimension,
                    category,
                    round(float(prediction.confidence[at]), 6),
                    quote,
                    found,
                )
            )
    with transaction.atomic():
        copy_rows(
            RaterItem,
            [
                "run_id",
                "item_id",
                "outcome",
                "attempts",
                "error",
                "prompt_tokens",
                "completion_tokens",
                "seconds",
            ],
            [
                (run.pk, texts[at].item_id, RaterItem.Outcome.LABELED, 1, "", 0, 0, 0.0)
                for at in positions
            ],
        )
        copy_rows(
            RaterLabel,
            [
                "run_id",
                "item_id",
                "record",
                "dimension_id",
                "category_id",
                "confidence",
                "evidence",
                "quote_found",
            ],
            labels,
        )
        note_progress(run, items_done=len(positions), labels_written=len(labels))
