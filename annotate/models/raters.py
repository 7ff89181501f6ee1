"""Machine raters (issue #18): a rater's configuration, its runs and the labels each run
gave. Nothing here is shown to a human before adjudication: annotate.access.raters is the
only way to these rows for a page or an endpoint."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.views.decorators.debug import sensitive_variables

from annotate.sealing import fernet_key, seal, unseal

from .codebook import Category, Dimension
from .labeling import Item
from .projects import Project


class Rater(models.Model):
    """A machine that labels a project's items against its codebook, blind."""

    class Kind(models.TextChoices):
        BUILTIN = "builtin", "built-in (scikit-learn)"
        OPENAI = "openai", "OpenAI-compatible endpoint"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="raters")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)
    model = models.CharField(max_length=200, blank=True, help_text="The endpoint's model name.")
    prompt_version = models.CharField(max_length=40, default="v1")
    temperature = models.FloatField(default=0.0)
    seed = models.IntegerField(null=True, blank=True)
    runs_per_start = models.PositiveSmallIntegerField(
        default=1, help_text="k: how many repeated runs one start queues (stability)."
    )
    base_url = models.URLField(max_length=500, blank=True)
    # The endpoint's key, Fernet-encrypted (annotate.sealing, settings.TOKEN_ENCRYPTION_KEY);
    # write-only: no page or endpoint shows it back.
    api_key_sealed = models.TextField(blank=True, editable=False)
    # Whether leads see this rater's labels beside the annotators' in adjudication.
    visible_in_adjudication = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="rater_unique_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.kind})"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_sealed)

    @sensitive_variables("key")
    def set_api_key(self, key: str) -> None:
        self.api_key_sealed = seal(key, fernet_key(settings.TOKEN_ENCRYPTION_KEY)) if key else ""

    @sensitive_variables()
    def api_key(self) -> str:
        """The key in clear ('' when none); raises sealing.Unreadable after a key change."""
        if not self.api_key_sealed:
            return ""
        return unseal(self.api_key_sealed, fernet_key(settings.TOKEN_ENCRYPTION_KEY))

    def config(self) -> dict:
        """The configuration a run stores with itself (never the key)."""
        return {
            "kind": self.kind,
            "model": self.model,
            "prompt_version": self.prompt_version,
            "temperature": self.temperature,
            "seed": self.seed,
            "base_url": self.base_url,
        }


class RaterRun(models.Model):
    """One pass of a rater over the project's items, run by a Celery worker; resumable:
    items already rated in the run (RaterItem) are skipped when it runs again."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    rater = models.ForeignKey(Rater, on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField()
    codebook_version = models.PositiveIntegerField()
    config = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    items_total = models.PositiveIntegerField(default=0)
    items_done = models.PositiveIntegerField(default=0)
    labels_written = models.PositiveIntegerField(default=0)
    invalid_answers = models.PositiveIntegerField(default=0)
    failed_items = models.PositiveIntegerField(default=0)
    quotes_not_found = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    # The built-in rater's cross-validated accuracy, per dimension and level, measured
    # before it rated anything: {"symptom": {"1": {"accuracy": .., "n": .., "folds": ..}}}.
    training = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rater", "number"]
        constraints = [
            models.UniqueConstraint(fields=["rater", "number"], name="rater_run_unique_number")
        ]

    @property
    def done(self) -> bool:
        return self.status not in self.ACTIVE

    @property
    def progress(self) -> float:
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        return self.items_done / self.items_total if self.items_total else 0.0


class RaterTrainingSet(models.Model):
    """What a built-in run learned from, frozen when it first trained, so that a resumed
    run learns the very same model again (the learning is deterministic given its inputs
    and seed) whatever was settled since: the items whose text it read, in order, and the
    settled records with their category ids, the dimensions' depths and the categories'
    paths as they were. Kept apart from RaterRun: it is large and pages never read it."""

    run = models.OneToOneField(
        RaterRun, on_delete=models.CASCADE, primary_key=True, related_name="training_set"
    )
    # {"items": [item id, ...], "dimensions": [[id, key, depth], ...],
    #  "categories": {"id": [dimension id, path]},
    #  "records": [[item id, record, [category id or null per dimension]], ...]}
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)


class RaterItem(models.Model):
    """What one run did with one item: labeled, out of scope, or failed (with the reason).
    One row per (run, item): the run's idempotency key."""

    class Outcome(models.TextChoices):
        LABELED = "labeled", "labeled"
        OUT_OF_SCOPE = "out_of_scope", "out of scope"
        FAILED = "failed", "failed"

    run = models.ForeignKey(RaterRun, on_delete=models.CASCADE, related_name="rated_items")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")

    class Reason(models.TextChoices):
        """Why an item failed (the last attempt's problem); '' unless it failed."""

        INVALID_JSON = "invalid_json", "invalid JSON after retries"
        INVALID_ANSWER = "invalid_answer", "answer not valid against the codebook"
        TIMEOUT = "timeout", "timeout after retries"
        RATE_LIMITED = "rate_limited", "rate limited (429) after retries"
        SERVER_ERROR = "server_error", "server error (5xx) after retries"
        UNREACHABLE = "unreachable", "endpoint unreachable"
        REFUSED = "refused", "request refused (4xx)"
        BAD_REPLY = "bad_reply", "reply not a usable chat completion"

    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField(
        max_length=20, choices=Reason.choices, blank=True, default="", db_default=""
    )
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["run", "item"]
        constraints = [models.UniqueConstraint(fields=["run", "item"], name="rater_item_unique")]


class RaterLabel(models.Model):
    """One category on one dimension of one failure record a run gave an item."""

    run = models.ForeignKey(RaterRun, on_delete=models.CASCADE, related_name="labels")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    record = models.PositiveSmallIntegerField(default=0)
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    confidence = models.FloatField(null=True, blank=True)
    evidence = models.TextField(blank=True)
    # Whether the evidence quote is found verbatim (whitespace aside) in the text the rater
    # was given; a quote that is not is counted on the run.
    quote_found = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "item", "record", "dimension__order"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "record", "dimension"], name="rater_label_unique"
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0.0, confidence__lte=1.0),
                name="rater_label_confidence_range",
            ),
        ]
        indexes = [models.Index(fields=["item", "dimension"], name="rater_label_item")]
