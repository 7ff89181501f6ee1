"""What the adjudication services raise when a decision or a step is not allowed."""

from annotate.errors import ServiceError


class AdjudicationError(ServiceError):
    """A decision or an adjudication step the item's state or the input does not allow."""
