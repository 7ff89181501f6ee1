from django.conf import settings
from django.db import connection, models
from django.db.models import Q

# Unreadable: raised by Project.github_token(); mining catches it from here.
from annotate.sealing import Unreadable as Unreadable
from annotate.sealing import fernet_key, unseal

PATH_SEPARATOR = " > "


class Role(models.TextChoices):
    OWNER = "owner", "owner"
    LEAD = "lead", "lead"
    ANNOTATOR = "annotator", "annotator"


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


# --- labeling and adjudication: project-scoped querysets ---
# The labeling and adjudication modules narrow these models to a project by name
# (`Item.objects.in_project(project)`) instead of spelling the lookup in every query.


class InProjectQuerySet(models.QuerySet):
    """Rows of one project, reached by `project_lookup` (a model's own `project`, or its
    item's)."""

    project_lookup = "project"

    def in_project(self, project):
        return self.filter(**{self.project_lookup: project})


class MembershipQuerySet(InProjectQuerySet):
    pass


class DimensionQuerySet(InProjectQuerySet):
    pass


class AssignmentQuerySet(InProjectQuerySet):
    project_lookup = "item__project"


class AnnotationQuerySet(InProjectQuerySet):
    project_lookup = "item__project"


class FinalLabelQuerySet(InProjectQuerySet):
    project_lookup = "item__project"


# --- end of labeling and adjudication querysets ---


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    overlap = models.PositiveSmallIntegerField(
        default=2, help_text="How many annotators label each item independently."
    )
    codebook_version = models.PositiveIntegerField(default=1)
    hide_annotator_names = models.BooleanField(
        default=False, help_text="Hide who labeled what from leads while they adjudicate."
    )
    assignment_timeout_minutes = models.PositiveIntegerField(
        default=120, help_text="An unsubmitted assignment returns to the pool after this long."
    )
    allow_external_images = models.BooleanField(
        default=False,
        help_text="Load images that issues link from other sites. Off: they are shown as "
        "links, so an issue cannot track who reads it.",
    )
    # How the labeling pool was drawn (filters, seed, size), kept to reproduce it.
    sample_definition = models.JSONField(default=dict, blank=True)
    # The project's own GitHub token, Fernet-encrypted (annotate.sealing); write-only.
    github_token_sealed = models.TextField(blank=True, editable=False)
    may_use_server_token = models.BooleanField(
        default=False,
        help_text="Staff only: mining jobs that owners start may use the server's "
        "GITHUB_TOKEN when the project has no token of its own.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def has_github_token(self) -> bool:
        return bool(self.github_token_sealed)

    def github_token(self) -> str:
        """The project's own GitHub token in clear ('' when none); raises
        sealing.Unreadable when the encryption key changed since it was stored."""
        if not self.github_token_sealed:
            return ""
        return unseal(self.github_token_sealed, fernet_key(settings.TOKEN_ENCRYPTION_KEY))


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["project", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) in {self.project}"


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        from django.utils import timezone

        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A single-use, expiring link that makes whoever opens it (signed in, or signing up) a
    member with `role`. Only a hash of its token is stored; the link is shown once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ANNOTATOR)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Optionally addressed: then only that account (or a new one of that name/e-mail) joins.
    username = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            # One open invitation per addressee: concurrent duplicates meet here.
            models.UniqueConstraint(
                fields=["project", "username"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True) & ~Q(username=""),
                name="invitation_unique_open_username",
            ),
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True) & ~Q(email=""),
                name="invitation_unique_open_email",
            ),
        ]

    def __str__(self):
        return f"invitation to {self.project} as {self.role}"

    @staticmethod
    def hash_token(token: str) -> str:
        import hashlib

        return hashlib.sha256(token.encode()).hexdigest()

    def problem(self) -> str | None:
        """Why the link no longer works, or None while it is pending."""
        from django.utils import timezone

        if self.accepted_at is not None:
            return "This invitation has already been used."
        if self.expires_at <= (self.revoked_at or timezone.now()):
            return "This invitation has expired; ask the project's owner for a new one."
        if self.revoked_at is not None:
            return "This invitation was revoked by the project's owner."
        return None


class Dimension(models.Model):
    """A single-choice question of the codebook (symptom, root cause, stage)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="dimensions")
    key = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    required = models.BooleanField(default=True)

    objects = DimensionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="dimension_unique_key")
        ]

    def __str__(self):
        return f"{self.project.slug}:{self.key}"


class CategoryQuerySet(InProjectQuerySet):
    project_lookup = "dimension__project"

    def active(self):
        return self.filter(retired=False)


class Category(models.Model):
    """A node of a dimension's category tree. Its full path is its identity in exports;
    `path` and `depth` are kept in step with the tree by the codebook services."""

    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    retired = models.BooleanField(default=False)
    path = models.CharField(max_length=1000, editable=False)
    depth = models.PositiveSmallIntegerField(default=1, editable=False)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["dimension", "path"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "name"],
                condition=Q(parent__isnull=True),
                name="category_unique_root_name",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(parent__isnull=False),
                name="category_unique_child_name",
            ),
        ]
        indexes = [models.Index(fields=["dimension", "path"])]

    def __str__(self):
        return self.path

    @property
    def parts(self) -> list[str]:
        return self.path.split(PATH_SEPARATOR)

    def compute_path(self) -> str:
        if self.parent_id is None:
            return self.name
        return f"{self.parent.path}{PATH_SEPARATOR}{self.name}"


class CodebookChange(models.Model):
    """One recorded change of a project's codebook; each bumps the codebook version."""

    class Kind(models.TextChoices):
        PRESET = "preset", "preset loaded"
        ADD = "add", "add"
        RENAME = "rename", "rename"
        EDIT = "edit", "edit description"
        RETIRE = "retire", "retire"
        MERGE = "merge", "merge"
        SPLIT = "split", "split"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="codebook_changes")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "version", "id"]


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


class ItemQuerySet(InProjectQuerySet):
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

    objects = AssignmentQuerySet.as_manager()

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["item", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator"], name="annotation_unique_annotator"
            )
        ]


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


class FinalLabel(models.Model):
    """An item's settled failure records (FinalRecordLabel rows), with provenance."""

    class Provenance(models.TextChoices):
        UNANIMOUS = "unanimous", "unanimous"
        ADJUDICATED = "adjudicated", "adjudicated"
        IMPORTED = "imported", "imported"

    class ErrorKind(models.TextChoices):
        NONE = "", "none"
        AMBIGUOUS = "ambiguous", "ambiguous issue"
        GUIDELINE_GAP = "guideline_gap", "guideline gap"
        SLIP = "slip", "annotator slip"
        CODEBOOK_GAP = "codebook_gap", "codebook gap"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="final_label")
    provenance = models.CharField(max_length=12, choices=Provenance.choices)
    out_of_scope = models.BooleanField(default=False)
    out_of_scope_reason = models.TextField(blank=True)
    rationale = models.TextField(blank=True)
    error_kind = models.CharField(max_length=15, choices=ErrorKind.choices, blank=True, default="")
    codebook_needs_work = models.BooleanField(default=False)
    codebook_version = models.PositiveIntegerField(default=1)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)

    objects = FinalLabelQuerySet.as_manager()

    class Meta:
        ordering = ["item"]


class FinalRecordLabel(models.Model):
    final = models.ForeignKey(FinalLabel, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="final_labels")

    class Meta:
        ordering = ["final", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["final", "record", "dimension"], name="final_record_label_unique"
            )
        ]
        indexes = [models.Index(fields=["dimension", "category"])]


class AuditEvent(models.Model):
    """Append-only trail of every label, decision and codebook change."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_events")
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]


class Release(models.Model):
    """A versioned, immutable snapshot of a project's dataset, as one zip."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=200, blank=True)
    archive = models.FileField(upload_to="releases/")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_unique_version")
        ]


class ConflictQuerySet(InProjectQuerySet):
    def open(self):
        return self.filter(resolved=False)

    def between(self, first_id, second_id):
        """Conflicts whose two sides are these categories, in either order."""
        return self.filter(
            Q(category_a_id=first_id, category_b_id=second_id)
            | Q(category_a_id=second_id, category_b_id=first_id)
        )


class Conflict(models.Model):
    """One difference between an item's annotations (a dimension at one level of one failure
    record, the number of records, or out of scope), kept so that the conflict queue can be
    filtered by dimension and by the pair of categories in conflict."""

    class Kind(models.TextChoices):
        CATEGORY = "category", "category"
        RECORDS = "records", "number of failure records"
        SCOPE = "scope", "out of scope"
        CODEBOOK = "codebook", "codebook change"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="conflicts")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="conflicts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CATEGORY)
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(
        Dimension, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # 1 = top level of the category tree; 0 when the difference is not about a category.
    level = models.PositiveSmallIntegerField(default=0)
    # The two sides' categories at `level` (an ancestor of what each annotator chose);
    # empty when a side has no category that deep.
    category_a = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category_b = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ConflictQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["project", "resolved", "dimension"]),
            models.Index(fields=["item", "resolved"]),
        ]


class AnnotationRound(models.Model):
    """A frozen copy of an annotation as it stood when its item went to discussion, so that
    agreement before and after discussion can both be reported."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="rounds")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotation_rounds")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    round = models.PositiveSmallIntegerField(default=1)
    out_of_scope = models.BooleanField(default=False)
    out_of_scope_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)
    confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    codebook_version = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "round", "annotator_id"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "round"], name="annotation_round_unique")
        ]


class AnnotationRoundLabel(models.Model):
    """One category of a frozen annotation round (mirrors AnnotationLabel)."""

    snapshot = models.ForeignKey(AnnotationRound, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="round_labels")
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["snapshot", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "record", "dimension"], name="annotation_round_label_unique"
            )
        ]


class ImportJob(models.Model):
    """An import run by a Celery worker: the uploaded files (kept under
    settings.IMPORT_UPLOAD_DIR until the job ends), its progress and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    format = models.CharField(max_length=10)
    labels = models.CharField(max_length=170)
    add_categories = models.BooleanField(default=False)
    group = models.CharField(max_length=100, blank=True)
    # [{"name": the uploaded file's name, "path": where it is stored, "size": bytes}]
    files = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One import at a time per project: the same upload sent several times at once
            # starts one job; the others are refused (409).
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["queued", "running"]),
                name="import_job_one_active_per_project",
            )
        ]

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
