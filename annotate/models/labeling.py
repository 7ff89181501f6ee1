"""Items (an issue in a project), assignments, annotations and their labels, and the
one function through which the miner flags items whose issue changed."""

from django.conf import settings
from django.db import connection, models
from django.db.models import Q

from .codebook import Category, Dimension
from .projects import Project

# Run by the miner right after it stored a page of issues (note_issue_edits): the texts
# annotators saw against the texts just stored, in two statements.
NOTE_ISSUE_EDITS = """
UPDATE annotate_item AS it SET edited_since_labeling = true
FROM mining_issue AS i
WHERE it.issue_id = i.id AND i.repository_id = %(repository)s AND i.number = ANY(%(numbers)s)
    AND NOT it.edited_since_labeling AND (it.snapshot_title <> '' OR it.snapshot_body <> '')
    AND (it.snapshot_title <> i.title OR it.snapshot_body <> i.body);
UPDATE annotate_item AS it SET snapshot_title = i.title, snapshot_body = i.body
FROM mining_issue AS i JOIN mining_repository AS r ON r.id = i.repository_id
WHERE it.issue_id = i.id AND i.repository_id = %(repository)s AND i.number = ANY(%(numbers)s)
    AND it.snapshot_title = '' AND it.snapshot_body = ''
    AND (r.private IS FALSE OR EXISTS (
        SELECT 1 FROM mining_projectrepository AS pr WHERE pr.project_id = it.project_id
        AND pr.repository_id = i.repository_id AND pr.fetched_at IS NOT NULL))
"""


class ItemQuerySet(models.QuerySet):
    def note_issue_edits(self, *, repository_id: int, numbers: list[int]) -> None:
        """The miner just stored issues `numbers` of a repository (inside its transaction):
        flag the items whose title or body changed from the snapshot annotators saw, and
        give an item without a snapshot one, but only in a project that may read the
        repository (mining.access): a copy in the item would show past the rule. The one
        place where mining's crawl reaches annotate's rows."""
        if not numbers:
            return
        if connection.vendor == "postgresql":
            params = {"repository": repository_id, "numbers": list(numbers)}
            with connection.cursor() as cursor:
                cursor.execute(NOTE_ISSUE_EDITS, params)
            return
        from mining.access import readable_repositories_q
        from mining.models import Repository

        items = self.filter(
            issue__repository_id=repository_id, issue__number__in=list(numbers)
        ).values_list(
            "pk", "project_id", "snapshot_title", "snapshot_body", "edited_since_labeling",
            "issue__title", "issue__body",
        )  # fmt: skip
        readers = {
            project_id
            for project_id in {row[1] for row in items}
            if Repository.objects.filter(
                readable_repositories_q(project_id), pk=repository_id
            ).exists()
        }
        edited = []
        for pk, project_id, title, body, already, new_title, new_body in items:
            if not title and not body:
                if project_id not in readers:
                    continue
                self.filter(pk=pk).update(snapshot_title=new_title, snapshot_body=new_body)
            elif not already and (title != new_title or body != new_body):
                edited.append(pk)
        if edited:
            self.filter(pk__in=edited).update(edited_since_labeling=True)


class Item(models.Model):
    """An issue in a project's labeling pool."""

    class State(models.TextChoices):
        OPEN = "open", "needs annotation"
        CONFLICT = "conflict", "in conflict"
        DISCUSSION = "discussion", "in discussion"
        SETTLED = "settled", "settled"
        EXCLUDED = "excluded", "excluded"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    issue = models.ForeignKey("mining.Issue", on_delete=models.PROTECT, related_name="items")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    position = models.PositiveIntegerField(default=0, help_text="Order in the sample.")
    calibration = models.BooleanField(default=False)
    batch = models.CharField(max_length=100, blank=True, help_text="Calibration batch name.")
    # Set once a lead sends the item back to its annotators for discussion.
    discussed = models.BooleanField(default=False)
    # Kept by the queue under the item's row lock: assignments held or submitted.
    assigned_count = models.PositiveSmallIntegerField(default=0)
    submitted_count = models.PositiveSmallIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    # The issue's text as annotators saw it, and whether GitHub's copy changed since.
    snapshot_title = models.TextField(blank=True)
    snapshot_body = models.TextField(blank=True)
    edited_since_labeling = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["project", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "issue"], name="item_unique_issue")
        ]
        indexes = [
            models.Index(fields=["project", "state", "position"]),
            models.Index(
                fields=["project", "position"],
                condition=Q(calibration=True),
                name="item_calibration",
            ),
        ]

    def __str__(self):
        return f"item {self.pk} ({self.issue_id})"


class Assignment(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "active"
        SUBMITTED = "submitted", "submitted"
        SKIPPED = "skipped", "skipped"
        EXPIRED = "expired", "expired"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    skip_reason = models.TextField(blank=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator"], name="assignment_unique_annotator"
            )
        ]
        indexes = [
            models.Index(fields=["annotator", "state"]),
            # The expiry sweep looks for active assignments past their time.
            models.Index(fields=["state", "expires_at"], name="assignment_expiry"),
        ]


class Annotation(models.Model):
    """One annotator's submission for an item: one or more failure records (AnnotationLabel
    rows grouped by `record`), or "not a failure / out of scope" with a reason."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    out_of_scope = models.BooleanField(default=False)
    out_of_scope_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    codebook_version = models.PositiveIntegerField(default=1)
    # 1 for the independent round; bumped when an annotator revises after discussion.
    round = models.PositiveSmallIntegerField(default=1)
    # Seconds the labeling page was visible and in use for this item, summed over the
    # visits that submitted (each clamped, labeling.pace); null when never measured
    # (imports, the API without it).
    active_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator"], name="annotation_unique_annotator"
            )
        ]


class SpanPart(models.TextChoices):
    TITLE = "title", "title"
    BODY = "body", "body"
    COMMENT = "comment", "comment"
    FIX = "fix", "fix"


class AnnotationLabel(models.Model):
    """One category on one dimension of one failure record of an annotation. Item and
    annotator are repeated here so that agreement tables are one GROUP BY."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="annotation_labels"
    )
    evidence = models.TextField(blank=True)
    # Where the evidence quote stands in the issue text the annotator saw (annotate.spans):
    # the part, [start, end) in code points of its plain text, and that text's hash, so a
    # later edit of the issue is noticed. Blank when the quote was typed, or imported.
    span_part = models.CharField(max_length=7, blank=True, db_default="", choices=SpanPart.choices)
    span_comment = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The mining.Comment holding the span.",
    )
    span_fix = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The mining.FixLink whose title holds the span.",
    )
    span_start = models.PositiveIntegerField(null=True, blank=True)
    span_end = models.PositiveIntegerField(null=True, blank=True)
    span_hash = models.CharField(max_length=64, blank=True, db_default="")

    class Meta:
        ordering = ["annotation", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "record", "dimension"], name="annotation_label_unique"
            )
        ]
        indexes = [
            # Covering: the agreement report pairs labels per (dimension, item, record)
            # from the index alone on PostgreSQL.
            models.Index(
                fields=["dimension", "item", "record"],
                include=["annotator", "category"],
                name="annotation_label_unit",
            )
        ]

    @property
    def span_key(self) -> str:
        """The part of the issue the evidence span is in, as annotate.spans names parts
        ("title", "body", "comment-<id>", "fix-<id>"); "" without a span."""
        if not self.span_part or self.span_start is None:
            return ""
        if self.span_part == SpanPart.COMMENT:
            return f"comment-{self.span_comment}"
        if self.span_part == SpanPart.FIX:
            return f"fix-{self.span_fix}"
        return self.span_part
