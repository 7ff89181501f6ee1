"""What the labeling services raise, one class per HTTP answer the API gives for it.

Kept apart from the stories that raise them (the queue's skips, submissions) so that each
of those modules, and the API that maps them to status codes, imports them from one place.
"""

from annotate.errors import Conflict, ServiceError


class LabelingError(ServiceError):
    """Invalid input for a label (unknown category, missing dimension...): HTTP 400."""


class NotAssignedError(LabelingError):
    """The caller holds no usable assignment for the item: HTTP 403."""


class ItemNotFoundError(LabelingError):
    """No such item in the project, or none the caller may know of: HTTP 404."""


class ItemClosedError(LabelingError):
    """The item can no longer take (or change) this annotation: HTTP 409."""


class InCalibrationError(Conflict):
    """The caller is in calibration (or failed it): no main-queue item until they pass,
    HTTP 409 (annotate.models.Membership.calibration, analysis.calibration)."""
