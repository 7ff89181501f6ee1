"""The discussion of an item sent back to its annotators: the thread of messages kept with
the item's history (the lead's note when sending it back, replies, revisions) and how far
each member has read it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .labeling import Item


class DiscussionMessage(models.Model):
    """One entry of an item's discussion thread. Plain text, rendered escaped; who may read
    it is access.get_discussion_thread's rule (the item's leads, owners and annotators)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", "message"
        SENT_BACK = "sent_back", "sent back for discussion"
        REVISED = "revised", "revised their labels"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="discussion_messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MESSAGE)
    body = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["item", "created"])]


class DiscussionRead(models.Model):
    """When a member last read an item's thread: later messages by others are unread."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="discussion_read_unique")
        ]
