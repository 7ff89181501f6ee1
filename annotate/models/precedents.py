"""A lead's word on a pair of near-duplicate settled items whose final labels differ (the
consistency report, issue #19): the difference is intended ("confirmed"), so the report
stops asking about it until either item's final label changes."""

from django.conf import settings
from django.db import models

from .labeling import Item
from .projects import Project


class ConsistencyReview(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    # The pair in id order (first < second), so a pair has one row.
    first = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(blank=True)
    # The final labels' decision times the lead saw: a later decision re-opens the question.
    first_decided_at = models.DateTimeField()
    second_decided_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="consistency_review_pair"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="consistency_review_order"
            ),
        ]
