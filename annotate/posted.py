"""Failure records as the HTML forms post them: one home for reading the `r<N>-<dimension>`
fields, used by the labeling page, the calibration pages and the adjudication page (the API
reads records in their wire shape instead: annotate.api.records)."""

# The most records a form may post: the labeling form's records, and the decision form's
# rows (which number every record of both annotators, blank ones included).
MAX_LABEL_RECORDS = 20
MAX_DECISION_RECORDS = 50


def _record_count(post, *, default: str, cap: int, fallback: int) -> int:
    try:
        return min(int(post.get("record_count", default) or 0), cap)
    except ValueError:
        return fallback


def label_records(post, dimensions) -> list[list[dict]]:
    """The labeling form's failure records (labeling page, calibration, gold-set editor),
    each a list of {dimension, category, evidence, span} for the dimensions
    (`codebook_dimensions` entries) that name a category; empty records dropped."""
    count = _record_count(post, default="1", cap=MAX_LABEL_RECORDS, fallback=1)
    records = []
    for index in range(count):
        labels = [
            {
                "dimension": entry["dimension"].key,
                "category": post.get(f"r{index}-{entry['dimension'].key}", "").strip(),
                "evidence": post.get(f"r{index}-{entry['dimension'].key}-evidence", ""),
                "span": post.get(f"r{index}-{entry['dimension'].key}-span", ""),
            }
            for entry in dimensions
        ]
        labels = [label for label in labels if label["category"]]
        if labels:
            records.append(labels)
    return records


def decision_records(post, dimensions) -> list[dict]:
    """The adjudication form's records: those whose `r<N>-present` box is posted, each
    {index, values: {dimension key: category as posted}} over the `dimensions` (Dimension
    rows); a count that is not a number gives none, which the decision refuses by name."""
    count = _record_count(post, default="0", cap=MAX_DECISION_RECORDS, fallback=0)
    records = []
    for index in range(count):
        values = {d.key: post.get(f"r{index}-{d.key}", "") for d in dimensions}
        if f"r{index}-present" in post:
            records.append({"index": index, "values": values})
    return records
