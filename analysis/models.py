"""The agreement report's summary of the annotators' labels, one row per unit.

A unit is (dimension, item, failure record): the thing two annotators agree or disagree on.
On PostgreSQL, triggers on the label, annotation and item tables (migration 0002) keep this
table equal to what the labels say, whichever code path writes them (submissions, revisions,
imports, codebook merges, calibration pins, bulk SQL), so that the report is one GROUP BY
over 1.5 rows per item and dimension instead of a GROUP BY over every label. Elsewhere
(SQLite for ``make run``) the table stays empty and the report counts the labels themselves.
"""

from django.db import models


class AgreementUnit(models.Model):
    """The labels of one unit, packed: ``m`` labels; ``lo`` and ``hi`` are the smallest and
    largest (annotator id << 32 | category id), which for a two-label unit are the first
    and the second annotator's labels. Item attributes and the latest annotation's time and
    codebook version are copied for the report's filters and breakdowns."""

    dimension_id = models.BigIntegerField()
    item_id = models.BigIntegerField(db_index=True)
    record = models.PositiveSmallIntegerField()
    m = models.PositiveSmallIntegerField()
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    calibration = models.BooleanField()
    discussed = models.BooleanField()
    batch = models.CharField(max_length=100, blank=True)
    version = models.PositiveIntegerField()
    at = models.DateTimeField()

    class Meta:
        # The report's "not simple" items (see analysis.agreement): few, found without a
        # scan of every unit.
        indexes = [
            models.Index(
                fields=["dimension_id", "item_id"],
                condition=models.Q(record__gt=0) | ~models.Q(m=2),
                name="analysis_unit_not_simple",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dimension_id", "item_id", "record"], name="agreement_unit_key"
            )
        ]

    def __str__(self):
        return f"unit {self.dimension_id}/{self.item_id}/{self.record} ({self.m} labels)"


class DataStamp(models.Model):
    """A project's data version, kept by PostgreSQL triggers (migration 0005): every
    statement that changes what the analysis pages read (labels, annotations, final labels,
    items, the codebook, members, repository groups, conflicts, the audit trail) adds 1 to
    ``n`` of one of the project's slots. The version is the sum over the slots, so it grows
    with every committed change; the slot is the writing connection's (backend pid modulo
    SLOTS), so concurrent submissions rarely wait on one row. Caches are keyed by it
    (annotate.versioned, which reads it by name). Elsewhere (SQLite for ``make run``) the
    table stays empty and the caches are not used."""

    SLOTS = 16

    project_id = models.BigIntegerField()
    slot = models.PositiveSmallIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project_id", "slot"], name="data_stamp_key")
        ]

    def __str__(self):
        return f"project {self.project_id} slot {self.slot}: {self.n}"
