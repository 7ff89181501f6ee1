"""Projects, their members and invitations, and the roles members hold."""

from django.conf import settings
from django.db import models
from django.db.models import Q

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
    # What releases say about the dataset (annotate.projects.metadata): an SPDX license
    # and [{"family", "given", "affiliation", "orcid"}], for CITATION.cff, .zenodo.json and
    # the Hugging Face dataset card.
    license = models.CharField(max_length=40, default="CC-BY-4.0")
    authors = models.JSONField(default=list, blank=True)

    class Phase(models.TextChoices):
        PILOT = "pilot", "pilot (open coding)"
        MAIN = "main", "main (closed coding)"

    # Open coding (issue #17, annotate.opencoding): in the pilot annotators may propose
    # categories; the switch to the main phase is a codebook version (main_since_version),
    # and agreement is reported for the main phase by default. Saturation is counted per
    # batch of this many items; the double-coding planner aims at this half-width.
    phase = models.CharField(max_length=5, choices=Phase.choices, default=Phase.MAIN)
    main_since_version = models.PositiveIntegerField(null=True, blank=True)
    saturation_batch_size = models.PositiveSmallIntegerField(
        default=20, help_text="Items per batch of the saturation curve."
    )
    planner_half_width = models.FloatField(
        default=0.10, help_text="Target half-width of kappa's 95% interval for double-coding."
    )
    # Calibration of new coders (issue #17, annotate.calibration): a coder in calibration
    # labels the gold set and passes at this Cohen's kappa against the lead's gold labels,
    # within this many tries.
    calibration_threshold = models.FloatField(
        default=0.6, help_text="Cohen's kappa against the gold set a new coder must reach."
    )
    calibration_tries = models.PositiveSmallIntegerField(
        default=2, help_text="How many tries of the gold set a new coder gets."
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

    class Calibration(models.TextChoices):
        NONE = "", "not required"
        PENDING = "pending", "in calibration"
        PASSED = "passed", "passed"
        FAILED = "failed", "failed out (the lead decides)"

    # A coder in calibration labels the gold set before the main queue (annotate.calibration).
    calibration = models.CharField(
        max_length=7, choices=Calibration.choices, default="", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

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
