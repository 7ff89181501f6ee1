"""The discussion thread of an item: messages posted by its leads and annotators, the
entries the workflow writes into it (sent back with the lead's note, a revision), and read
marks. Who may read or post is access.get_discussion_thread's rule; these functions take
an item the caller already reached through it."""

from django.db import transaction
from django.utils import timezone

from annotate.adjudication.errors import AdjudicationError
from annotate.limits import too_long
from annotate.models import DiscussionMessage, DiscussionRead, Item


@transaction.atomic
def post_message(*, item: Item, author, body: str) -> DiscussionMessage:
    """Add `author`'s message (plain text) to the item's thread; it counts as read by them.
    Precondition: the author may post (access.get_discussion_thread with write=True)."""
    body = (body or "").strip()
    if not body:
        raise AdjudicationError("Write a message before sending it.")
    if problem := too_long("message", body):
        raise AdjudicationError(problem)
    message = DiscussionMessage.objects.create(item=item, author=author, body=body)
    mark_read(item=item, user=author, at=message.created)
    return message


def mark_read(*, item: Item, user, at=None) -> None:
    """Everything in the item's thread up to now (or `at`) is read by `user`. Idempotent."""
    DiscussionRead.objects.update_or_create(
        item=item, user=user, defaults={"read_at": at or timezone.now()}
    )


def note_sent_back(*, item: Item, actor, note: str) -> DiscussionMessage:
    """The thread's entry for the lead sending the item back, with their note (if any)."""
    return DiscussionMessage.objects.create(
        item=item, author=actor, kind=DiscussionMessage.Kind.SENT_BACK, body=note.strip()
    )


def note_revision(*, item: Item, annotator) -> DiscussionMessage:
    """The thread's entry for an annotator revising their labels in discussion."""
    return DiscussionMessage.objects.create(
        item=item, author=annotator, kind=DiscussionMessage.Kind.REVISED
    )
