from django.db import models


class Repository(models.Model):
    """A GitHub repository to mine; `group` is the series it belongs to (e.g. Qwen)."""

    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    group = models.CharField(max_length=100, blank=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    github_id = models.BigIntegerField(null=True, blank=True, unique=True)
    # Incremental sync state: the largest updated_at stored, and the ETags of the
    # first pages of the two repository-wide lists (for conditional requests).
    issues_watermark = models.DateTimeField(null=True, blank=True)
    comments_watermark = models.DateTimeField(null=True, blank=True)
    issues_etag = models.CharField(max_length=200, blank=True)
    comments_etag = models.CharField(max_length=200, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The projects that mine this repository (a repository is mined once for all of them).
    projects = models.ManyToManyField("annotate.Project", blank=True, related_name="repositories")

    class Meta:
        ordering = ["owner", "name"]
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="repository_unique_full_name")
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def html_url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"


class Issue(models.Model):
    """A GitHub issue or pull request, as mined (raw JSON kept) or as named by an import."""

    class State(models.TextChoices):
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    class Gone(models.TextChoices):
        PRESENT = "", "present"
        MOVED = "301", "transferred (301)"
        NOT_FOUND = "404", "not found (404)"
        DELETED = "410", "deleted (410)"

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="issues")
    github_id = models.BigIntegerField(null=True, blank=True, unique=True)
    number = models.PositiveIntegerField()
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    author = models.CharField(max_length=100, blank=True)
    labels = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    comment_count = models.PositiveIntegerField(default=0)
    is_pull_request = models.BooleanField(default=False)
    raw = models.JSONField(default=dict, blank=True)
    # False for issues that are only known by their link (an import) until mined.
    fetched = models.BooleanField(default=False)
    gone = models.CharField(max_length=3, choices=Gone.choices, default=Gone.PRESENT, blank=True)
    moved_to = models.URLField(blank=True)

    class Meta:
        ordering = ["repository", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "number"], name="issue_unique_number_per_repository"
            )
        ]

    def __str__(self):
        return f"{self.repository.full_name}#{self.number}"

    @property
    def html_url(self) -> str:
        kind = "pull" if self.is_pull_request else "issues"
        return f"{self.repository.html_url}/{kind}/{self.number}"


class Comment(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    github_id = models.BigIntegerField(unique=True)
    author = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "github_id"]

    def __str__(self):
        return f"comment {self.github_id} on {self.issue}"


class MiningJob(models.Model):
    """One run of the miner over some repositories (or a list of single issues)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        WAITING = "waiting", "waiting for rate limit"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    class Kind(models.TextChoices):
        CRAWL = "crawl", "repository crawl"
        SINGLE = "single", "single issues"
        RECONCILE = "reconcile", "reconcile"

    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CRAWL)
    repositories = models.ManyToManyField(Repository, blank=True, related_name="jobs")
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    pages = models.PositiveIntegerField(default=0)
    issues = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    rate_limit_remaining = models.IntegerField(null=True, blank=True)
    rate_limit_reset = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    log = models.JSONField(default=list, blank=True)
    # The API the job talks to (GitHub, an Enterprise URL, or the emulator); never a token.
    api_url = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class MiningTask(models.Model):
    """One repository's share of a job (or a job's single-issue list): the unit a Celery task
    claims. `worker` and `heartbeat_at` tell whether its claimer is still alive."""

    job = models.ForeignKey(MiningJob, on_delete=models.CASCADE, related_name="tasks")
    repository = models.ForeignKey(
        Repository, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=MiningJob.Status.choices, default=MiningJob.Status.QUEUED
    )
    # 0: the issues list, 1: the comments list, 2: finished (for the progress estimate).
    phase = models.PositiveSmallIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "repository"], name="mining_task_unique_repo")
        ]

    def __str__(self):
        return f"task {self.pk} of job {self.job_id} ({self.status})"
