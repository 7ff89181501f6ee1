"""A project whose items are the seeded near-duplicates (tests/near_duplicates.py): the
first out-of-memory report settled with a rationale, its reworded twin in conflict, the
near-identical title open and labeled by one annotator only, the two tokenizer hangs
settled with different symptoms, and the other issues settled alike."""

from annotate.models import FinalLabel
from tests.builders import CPU_MEMORY, HANG, OOM, LabelBuilder, label_both, record, submit
from tests.factories import AssignmentFactory, ItemFactory, RepositoryFactory
from tests.near_duplicates import seed_corpus

RATIONALE = "The allocation fails while loading weights: out of memory, not a device error."


def build(project, cast) -> dict:
    issues = seed_corpus(RepositoryFactory())
    items = {key: ItemFactory(project=project, issue=issue) for key, issue in issues.items()}
    labels = LabelBuilder(project)
    labels.settle(
        items["oom"], [record()], provenance=FinalLabel.Provenance.ADJUDICATED, rationale=RATIONALE
    )
    label_both(items["oom_reworded"], cast, [record()], [record(root_cause=CPU_MEMORY)])
    # Unsettled: annotator B's labels on it must never show as a precedent.
    submit(items["oom_same_title"], cast["annotator_b"], [record(symptom=HANG)])
    AssignmentFactory(item=items["oom_same_title"], annotator=cast["annotator_a"])
    labels.settle(items["hang"], [record(symptom=HANG, root_cause=CPU_MEMORY)])
    labels.settle(items["hang_reworded"], [record(symptom=OOM, root_cause=CPU_MEMORY)])
    for key in ("illegal", "illegal_other_title", "docs", "template", "template_marked"):
        labels.settle(items[key], [record()])
    for item in items.values():
        item.refresh_from_db()
    return items
