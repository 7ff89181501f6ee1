import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce

# A source is the host of the API the data came from: github.com's API, an Enterprise
# host, an emulator's host:port, or the demo's own name. Rows of different sources never
# meet (uniqueness is per source), so synthetic data never shares a row with github.com's.
GITHUB_SOURCE = "api.github.com"
# The demo's synthetic world; `.invalid` is reserved (RFC 2606): it never resolves.
DEMO_SOURCE = "demo.faultline.invalid"


def source_of(api_url: str) -> str:
    """The source an API URL's data belongs to: its host (with a port, when given)."""
    parts = urlsplit(api_url or "")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError(f"'{api_url}' is not an API URL.")
    return f"{host}:{parts.port}" if parts.port else host


def default_source() -> str:
    return source_of(settings.GITHUB_API_URL)


def web_root(source: str) -> str:
    """Where a source's issues are shown on the web: https://github.com for github.com's
    API, the host itself for an Enterprise host, http:// for a local host:port."""
    if source == GITHUB_SOURCE:
        return "https://github.com"
    scheme = "http" if ":" in source or source in ("localhost", "127.0.0.1") else "https"
    return f"{scheme}://{source}"


class Repository(models.Model):
    """A repository of one source. What a project says about it (its group, metadata,
    whether the project mines it) is the project's own: ProjectRepository."""

    source = models.CharField(max_length=200, default=GITHUB_SOURCE, db_default=GITHUB_SOURCE)
    owner = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    github_id = models.BigIntegerField(null=True, blank=True)
    # Incremental sync state: the largest updated_at stored, and the ETags of the
    # first pages of the two repository-wide lists (for conditional requests).
    issues_watermark = models.DateTimeField(null=True, blank=True)
    comments_watermark = models.DateTimeField(null=True, blank=True)
    issues_etag = models.CharField(max_length=200, blank=True)
    comments_etag = models.CharField(max_length=200, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # GitHub's `private` flag, stored when a crawl fetches the repository. None: unknown
    # (rows from before the flag, repositories only named by imports), treated as private:
    # only a project whose own job fetched from it reads its issues' text.
    private = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["owner", "name"]
        verbose_name_plural = "repositories"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "owner", "name"], name="repository_unique_source_full_name"
            ),
            models.UniqueConstraint(
                fields=["source", "github_id"], name="repository_unique_source_github_id"
            ),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def html_url(self) -> str:
        return f"{web_root(self.source)}/{self.owner}/{self.name}"


class ProjectRepository(models.Model):
    """A project's own view of a repository: its group (e.g. the model series), metadata,
    and whether the project mines it. Another project's view of the same repository is
    another row; nothing one project writes here reaches another."""

    project = models.ForeignKey(
        "annotate.Project", on_delete=models.CASCADE, related_name="repository_views"
    )
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="views")
    group = models.CharField(max_length=100, blank=True, db_index=True)
    metadata = models.JSONField(default=dict, blank=True)
    # False for a repository the project only knows through imported links.
    mined = models.BooleanField(default=False)
    # The last time one of this project's jobs finished syncing the repository.
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # The last time one of this project's jobs, with the project's token, fetched from the
    # repository (a crawl, or single issues): the project may read what it fetched.
    fetched_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        "auth.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["repository__owner", "repository__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "repository"], name="project_repository_unique"
            )
        ]

    def __str__(self):
        return f"{self.repository} in project {self.project_id}"


def project_view(field: str, *, project, repository: str):
    """A subquery for the project's own `field` of a repository ("group", or "meta:NAME"
    for one metadata value). `project`: a project pk or an OuterRef path to one;
    `repository`: the OuterRef path to the repository id."""
    if not hasattr(project, "resolve_expression"):
        project = models.Value(getattr(project, "pk", project))
    # One row at most (unique per project and repository); order_by() drops the default
    # order's join to the repository, run once per row of the outer query (issue #15: most
    # of a cold distributions page at 100,000 items).
    rows = ProjectRepository.objects.filter(
        project_id=project, repository_id=OuterRef(repository)
    ).order_by()
    if field.startswith("meta:"):
        rows = rows.annotate(value=KeyTextTransform(field[5:], "metadata"))
        return Subquery(rows.values("value")[:1], output_field=models.CharField())
    # No view of the repository: no group ("", as a view without one).
    return Coalesce(
        Subquery(rows.values(field)[:1]), models.Value(""), output_field=models.CharField()
    )


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
    # The repository's source, kept here too so that github_id is unique per source.
    source = models.CharField(max_length=200, default=GITHUB_SOURCE, db_default=GITHUB_SOURCE)
    github_id = models.BigIntegerField(null=True, blank=True)
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
    # The issue's updated_at when its fix links were last fetched (mining/fixes.py): the
    # links are fetched again only for an issue updated since (None: never fetched).
    fixes_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["repository", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "number"], name="issue_unique_number_per_repository"
            ),
            models.UniqueConstraint(
                fields=["source", "github_id"], name="issue_unique_source_github_id"
            ),
        ]

    def __str__(self):
        return f"{self.repository.full_name}#{self.number}"

    @property
    def html_url(self) -> str:
        kind = "pull" if self.is_pull_request else "issues"
        return f"{self.repository.html_url}/{kind}/{self.number}"


class Comment(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="comments")
    source = models.CharField(max_length=200, default=GITHUB_SOURCE, db_default=GITHUB_SOURCE)
    github_id = models.BigIntegerField()
    author = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "github_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "github_id"], name="comment_unique_source_github_id"
            )
        ]

    def __str__(self):
        return f"comment {self.github_id} on {self.issue}"


class IssueSearch(models.Model):
    """An issue's full-text document (PostgreSQL only): its title weighted A, body B and
    comments C. Triggers on mining_issue and mining_comment keep it equal to the stored
    text whichever path writes it (the miner's upserts, imports, COPY); the table, its GIN
    index, the triggers and `mining_rebuild_issue_search()` for a load that bypassed them
    are in migration 0005. The row goes with its issue (a foreign key ON DELETE CASCADE,
    added there: Django leaves the deletion to the database)."""

    issue = models.OneToOneField(
        Issue,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        related_name="search",
        db_constraint=False,
    )
    document = SearchVectorField()

    class Meta:
        db_table = "mining_issuesearch"


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
    # {"links": [...]} for single issues; {"fixes": true}: a crawl also fetches fix links.
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    pages = models.PositiveIntegerField(default=0)
    issues = models.PositiveIntegerField(default=0)
    comments = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0)
    # GitHub's GraphQL API (fix links): queries sent and the points they cost.
    graphql_queries = models.PositiveIntegerField(default=0)
    graphql_points = models.PositiveIntegerField(default=0)
    rate_limit_remaining = models.IntegerField(null=True, blank=True)
    rate_limit_reset = models.DateTimeField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    log = models.JSONField(default=list, blank=True)
    # The API the job talks to (GitHub, an Enterprise URL, or the emulator); never a token.
    api_url = models.CharField(max_length=300, blank=True)
    # The source the job's data belongs to (source_of(api_url), or the demo's own).
    source = models.CharField(max_length=200, default=GITHUB_SOURCE, db_default=GITHUB_SOURCE)
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


_COMMIT_URL = re.compile(r"^https?://[^/]+/([^/#?]+/[^/#?]+)/commit/")


def link_repository_name(kind: str, ref: str, url: str) -> str:
    """The lower-case `owner/name` a fix link lives in when GitHub did not name it: a pull
    request's from its ref (`OWNER/NAME#NUMBER`), a commit's from its url ("" when the
    url does not tell)."""
    if kind == "referencing_commit":
        match = _COMMIT_URL.match(url or "")
        return match.group(1).lower() if match else ""
    return (ref or "").rpartition("#")[0].lower()


class FixLink(models.Model):
    """A pull request or commit linked to a mined issue, as GitHub's GraphQL API tells it
    (mining/fixes.py): a pull request that closes the issue
    (`closedByPullRequestsReferences`), one that only mentions it (a timeline
    `CrossReferencedEvent`), or a commit that mentions it (a `ReferencedEvent`). GitHub's
    text (the title) is untrusted: templates escape it. `ref` is `OWNER/NAME#NUMBER` for a
    pull request (it may live in another repository) and the commit's sha for a commit."""

    class Kind(models.TextChoices):
        CLOSING_PR = "closing_pr", "closing pull request"
        REFERENCING_PR = "referencing_pr", "referencing pull request"
        REFERENCING_COMMIT = "referencing_commit", "referencing commit"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="fix_links")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ref = models.CharField(max_length=250)
    number = models.PositiveIntegerField(null=True, blank=True)  # a pull request's
    sha = models.CharField(max_length=40, blank=True)  # a commit's
    url = models.URLField(max_length=500, blank=True)
    title = models.TextField(blank=True)
    state = models.CharField(max_length=10, blank=True)  # OPEN, CLOSED, MERGED ("" commit)
    merged = models.BooleanField(null=True, blank=True)  # None for a commit
    merged_at = models.DateTimeField(null=True, blank=True)  # a commit: its commit date
    files_changed = models.PositiveIntegerField(null=True, blank=True)
    additions = models.PositiveIntegerField(null=True, blank=True)
    deletions = models.PositiveIntegerField(null=True, blank=True)
    # The repository the pull request or commit lives in, lower-case OWNER/NAME (GraphQL's
    # nameWithOwner; for rows mined before it was fetched, a pull request's from its ref and
    # a commit's from its url; "" when neither tells), and GitHub's `isPrivate` of it when
    # the link was mined (None: mined before it was fetched). A private repository's links
    # show only to a project that reads it (mining.access.visible_links_q).
    repository_name = models.CharField(max_length=250, blank=True)
    repository_private = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["issue", "kind", "merged_at", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "kind", "ref"], name="fixlink_unique_ref")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.ref} of {self.issue_id}"

    def save(self, *args, **kwargs):
        if not self.repository_name:
            self.repository_name = link_repository_name(self.kind, self.ref, self.url)
        super().save(*args, **kwargs)

    @property
    def safe_url(self) -> str:
        """The link only when it is a web address (GitHub's data is untrusted)."""
        return self.url if self.url.startswith(("https://", "http://")) else ""
