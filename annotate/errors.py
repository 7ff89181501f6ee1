"""The errors services raise for a caller's input. Pages show the message; the API
answers 400 (409 for a Conflict, 410 for an InvitationGone) with it in the one error body."""


class ServiceError(Exception):
    """A problem with the caller's input; the message names it."""


class Conflict(ServiceError):
    """The input clashes with something that exists (often a concurrent duplicate): 409."""


class InvitationGone(ServiceError):
    """An invitation link that was used, revoked or has expired: 410."""
