"""The text a machine rater is given for an item: the title and body annotators saw (the
item's snapshot, else the mined issue's) and the issue's comments in order, and the check
of an evidence quote against it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mining.models import Comment

WHITESPACE = re.compile(r"\s+")
SEPARATOR = "\n\n"
MAX_COMMENTS = 30


@dataclass
class ItemText:
    item_id: int
    title: str
    body: str
    comments: list[str]

    def plain(self) -> str:
        """Everything in one string (the built-in rater's document)."""
        return "\n\n".join([self.title, self.body, *self.comments])

    def _sections(self) -> list[tuple[str, str]]:
        """(heading, the issue's own text) in the order the prompt gives them."""
        sections = [("Title: ", self.title), ("Body:\n", self.body)]
        sections += [(f"Comment {n}:\n", text) for n, text in enumerate(self.comments, 1)]
        return sections

    def for_prompt(self, limit: int) -> str:
        """Title, body and comments with headings, cut to `limit` characters."""
        return SEPARATOR.join(heading + text for heading, text in self._sections())[:limit]

    def given(self, limit: int) -> list[str]:
        """The issue's own texts (title, body, comments) as far as for_prompt(limit) gives
        them, without the prompt's headings: what an evidence quote must come from."""
        parts, used = [], 0
        for n, (heading, text) in enumerate(self._sections()):
            used += len(SEPARATOR) if n else 0
            room = limit - used - len(heading)
            if room <= 0:
                break
            parts.append(text[:room])
            used += len(heading) + len(text)
        return parts


def squash(text: str) -> str:
    """`text` with its runs of whitespace as one space, case folded: what quotes are
    matched against (squash a text once for many quotes)."""
    return WHITESPACE.sub(" ", text).strip().casefold()


def quote_in(quote: str, squashed_text: str) -> bool:
    """quote_found against a text squash() already made."""
    squashed = squash(quote)
    return bool(squashed) and squashed in squashed_text


def quote_in_any(quote: str, squashed_texts: list[str]) -> bool:
    """Whether `quote` occurs within one of the texts (each squash()ed): a quote running
    from one text into the next crossed a heading of the prompt, not the issue's words."""
    squashed = squash(quote)
    return bool(squashed) and any(squashed in text for text in squashed_texts)


def quote_found(quote: str, text: str) -> bool:
    """Whether `quote` occurs in `text` verbatim, whitespace and letter case aside (a
    model's quote of a log line often rewraps it). An empty quote is not found."""
    return quote_in(quote, squash(text))


def item_texts(items) -> list[ItemText]:
    """The texts of `items` (a queryset of the project's items), in its order, with at most
    MAX_COMMENTS comments each; two queries whatever the count."""
    rows = list(
        items.values_list(
            "pk", "issue_id", "snapshot_title", "snapshot_body", "issue__title", "issue__body"
        )
    )
    comments: dict[int, list[str]] = {}
    # A subquery, not a list of ids: Django resolves every parameter of an IN list.
    found = (
        Comment.objects.filter(issue_id__in=items.values("issue_id"))
        .order_by("issue_id", "created_at", "id")
        .values_list("issue_id", "body")
    )
    for issue_id, body in found.iterator(chunk_size=10_000):
        bucket = comments.setdefault(issue_id, [])
        if len(bucket) < MAX_COMMENTS:
            bucket.append(body)
    texts = []
    for pk, issue_id, snap_title, snap_body, title, body in rows:
        if snap_title or snap_body:  # what the annotators saw
            title, body = snap_title, snap_body
        texts.append(ItemText(pk, title, body, comments.get(issue_id, [])))
    return texts
