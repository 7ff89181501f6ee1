"""Every table of annotate, one module per concern; import them from here
(`from annotate.models import Item`), as Django and the other apps do."""

# Unreadable: raised by Project.github_token(); mining catches it from here.
from annotate.sealing import Unreadable as Unreadable

from .adjudication import (
    AnnotationRound,
    AnnotationRoundLabel,
    AuditEvent,
    Conflict,
    FinalLabel,
    FinalRecordLabel,
)
from .calibration import (
    CalibrationAnswer,
    CalibrationLabel,
    CalibrationTry,
    GoldItem,
    GoldLabel,
)
from .codebook import Category, CodebookChange, Dimension
from .discussion import DiscussionMessage, DiscussionRead
from .labeling import Annotation, AnnotationLabel, Assignment, Item, SpanPart
from .opencoding import CategoryProposal
from .precedents import ConsistencyReview
from .projects import PATH_SEPARATOR, Invitation, Membership, Project, Role
from .publishing import ImportJob, Release
from .raters import Rater, RaterItem, RaterLabel, RaterRun, RaterTrainingSet

__all__ = [
    "PATH_SEPARATOR",
    "Annotation",
    "AnnotationLabel",
    "AnnotationRound",
    "AnnotationRoundLabel",
    "Assignment",
    "AuditEvent",
    "CalibrationAnswer",
    "CalibrationLabel",
    "CalibrationTry",
    "Category",
    "CategoryProposal",
    "CodebookChange",
    "ConsistencyReview",
    "Conflict",
    "Dimension",
    "DiscussionMessage",
    "DiscussionRead",
    "FinalLabel",
    "FinalRecordLabel",
    "GoldItem",
    "GoldLabel",
    "ImportJob",
    "Invitation",
    "Item",
    "Membership",
    "Project",
    "Rater",
    "RaterItem",
    "RaterLabel",
    "RaterRun",
    "RaterTrainingSet",
    "Release",
    "Role",
    "SpanPart",
    "Unreadable",
]
