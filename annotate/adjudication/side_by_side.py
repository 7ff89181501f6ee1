"""An item's annotations side by side, for the conflict page and the discussion page: per
failure record and dimension, each side's chain of categories with the differing levels
flagged. Sides are named by letter (annotate.access decides when names are hidden).
"""

from annotate.access import side_letter
from annotate.adjudication.comparison import align_records, category_chain, records_of
from annotate.codebook.queries import read_codebook
from annotate.models import (
    Item,
)


def comparison_table(item: Item, annotations, hide_names: bool) -> dict:
    """The annotations side by side: per failure record and dimension, each side's chain
    of categories with the levels that differ flagged, plus each side's note and evidence.

    Records of every side are aligned to the first side's (identical records first)."""
    book = read_codebook(item.project_id)
    dimensions, categories, parents = book.dimensions, book.by_id, book.parents
    sides, aligned = [], []
    for index, annotation in enumerate(annotations):
        labels = list(annotation.labels.all())
        evidence = {(lab.record, lab.dimension_id): lab.evidence for lab in labels}
        record_keys = sorted({lab.record for lab in labels})
        records = records_of(labels)
        order = list(range(len(records)))
        if aligned and not annotation.out_of_scope:
            pairs = dict((j, i) for i, j in align_records(aligned[0][0], records))
            order = sorted(range(len(records)), key=lambda j: (pairs.get(j, 10_000), j))
        aligned.append(([records[j] for j in order], [record_keys[j] for j in order], evidence))
        sides.append(
            {
                "letter": side_letter(index),
                "name": None if hide_names else annotation.annotator.username,
                "annotation": annotation,
            }
        )
    rows = []
    count = max((len(records) for records, _, _ in aligned), default=0)
    for r in range(count):
        dims = []
        for dimension in dimensions:
            chains = []
            for records, keys, evidence in aligned:
                category_id = records[r].get(dimension.pk) if r < len(records) else None
                chains.append((category_chain(category_id, parents), category_id, keys, evidence))
            depth = max((len(c[0]) for c in chains), default=0)
            cells, differs = [], False
            for chain, category_id, keys, evidence in chains:
                levels = []
                for level in range(depth):
                    values = {c[0][level] if level < len(c[0]) else None for c in chains}
                    name = categories[chain[level]].name if level < len(chain) else ""
                    levels.append({"name": name, "differs": len(values) > 1})
                    differs = differs or len(values) > 1
                cells.append(
                    {
                        "category": categories.get(category_id),
                        "levels": levels,
                        "evidence": evidence.get((keys[r], dimension.pk), "")
                        if r < len(keys)
                        else "",
                    }
                )
            dims.append({"dimension": dimension, "cells": cells, "differs": differs})
        rows.append({"index": r, "dimensions": dims})
    return {"sides": sides, "records": rows}
