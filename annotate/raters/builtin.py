"""The built-in rater's run: read the project's item texts and settled records, learn
(annotate.raters.learning: cross-validated first, its accuracy stored on the run before any
label is written), then write one record per item in chunks, each chunk one transaction
with its RaterItem rows, so a run that stops goes on where it was."""

from __future__ import annotations

from django.db import transaction

from annotate.access import (
    final_record_labels,
    project_categories,
    project_dimensions,
    project_items,
)
from annotate.bulk import copy_rows
from annotate.models import Item, RaterItem, RaterLabel, RaterRun
from annotate.raters import learning
from annotate.raters.runs import RunFailed, items_to_rate, note_progress
from annotate.raters.texts import item_texts

CHUNK = 5_000


def training_records(project, index: dict[int, int]) -> list[tuple[int, dict[str, str]]]:
    """(item index, {dimension key: category path}) for every in-scope final record of the
    project's settled items."""
    rows = (
        final_record_labels(project)
        .filter(item__state=Item.State.SETTLED, final__out_of_scope=False)
        .values_list("item_id", "record", "dimension__key", "category__path")
    )
    records: dict[tuple[int, int], dict[str, str]] = {}
    for item_id, record, key, path in rows.iterator(chunk_size=20_000):
        if item_id in index:
            records.setdefault((index[item_id], record), {})[key] = path
    return [(at, labels) for (at, _), labels in sorted(records.items())]


def rate(run: RaterRun) -> None:
    """Learn and label every item the run has not done; RunFailed when the project has too
    few settled items to learn from."""
    project = run.rater.project
    texts = item_texts(items_to_rate_all(run))
    index = {text.item_id: at for at, text in enumerate(texts)}
    dimensions = list(project_dimensions(project))
    categories = {
        (c.dimension_id, c.path): c.pk for c in project_categories(project).filter(retired=False)
    }
    depths = {}
    for dimension in dimensions:
        paths = [path for (dim, path) in categories if dim == dimension.pk]
        if paths:
            depths[dimension.key] = max(p.count(learning.SEPARATOR) + 1 for p in paths)
    records = training_records(project, index)
    try:
        learned = learning.learn(
            [text.plain() for text in texts], records, depths, seed=run.rater.seed or 0
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
    by_key = {d.key: d for d in dimensions}
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
            category = categories.get((dimension.pk, str(prediction.paths[at])))
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
                    dimension.pk,
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
