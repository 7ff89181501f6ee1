"""A project's rows by model: project_rows and PROJECT_PATHS, and the named sets built on
them. Each takes a project the caller already reached through get_project_for_user (or
that a service received from such a view); tests/security/test_one_door.py holds callers
to it.
"""

from django.http import Http404

from annotate.models import (
    Annotation,
    AnnotationLabel,
    AnnotationRound,
    AnnotationRoundLabel,
    Assignment,
    AuditEvent,
    CalibrationAnswer,
    CalibrationTry,
    Category,
    CategoryProposal,
    CodebookChange,
    Conflict,
    ConsistencyReview,
    Dimension,
    FinalLabel,
    FinalRecordLabel,
    GoldItem,
    GoldLabel,
    ImportJob,
    Item,
    Membership,
    Project,
    Rater,
    RaterItem,
    RaterLabel,
    RaterRun,
    Release,
)
from mining.models import Issue, ProjectRepository

PROJECT_PATHS = {
    Item: "project",
    Membership: "project",
    Assignment: "item__project",
    Dimension: "project",
    Category: "dimension__project",
    CategoryProposal: "project",
    CodebookChange: "project",
    AuditEvent: "project",
    Conflict: "project",
    ConsistencyReview: "project",
    Annotation: "item__project",
    AnnotationLabel: "item__project",
    AnnotationRound: "item__project",
    AnnotationRoundLabel: "item__project",
    FinalLabel: "item__project",
    FinalRecordLabel: "item__project",
    Release: "project",
    ImportJob: "project",
    Issue: "items__project",
    ProjectRepository: "project",
    Rater: "project",
    RaterRun: "rater__project",
    RaterItem: "run__rater__project",
    RaterLabel: "run__rater__project",
    GoldItem: "project",
    GoldLabel: "gold__project",
    CalibrationTry: "membership__project",
    CalibrationAnswer: "gold__project",
}


def project_rows(model, project):
    """Every row of ``model`` that belongs to ``project`` (a project or its id), as a
    queryset to narrow further (a model missing from PROJECT_PATHS is a KeyError: no
    unscoped read slips through). The named sets below are this with a name."""
    return model.objects.filter(**{PROJECT_PATHS[model]: project})


def project_items(project: Project):
    """Every item of `project`, for counts every member sees and for managers; which items
    an annotator may open is the visible-items rule (get_item_for_user)."""
    return project_rows(Item, project)


def items_of_projects(project_ids):
    """Every item of the projects `project_ids` (the caller's own, for their progress)."""
    return Item.objects.filter(project_id__in=project_ids)


def project_dimensions(project: Project):
    return project_rows(Dimension, project)


def project_categories(project: Project):
    """The categories of `project`'s codebook, retired ones included (every member reads
    the codebook; leads edit it)."""
    return project_rows(Category, project)


def codebook_changes(project: Project):
    return project_rows(CodebookChange, project)


def project_issues(project: Project):
    """The mined issues `project` has items of (their text through mining's TextAccess)."""
    return project_rows(Issue, project)


def own_assignments(project: Project, user):
    """The user's own assignments in `project`: never another annotator's."""
    return project_rows(Assignment, project).filter(annotator=user)


def own_annotations(project: Project, user):
    """The user's own annotations in `project`: never another annotator's."""
    return project_rows(Annotation, project).filter(annotator=user)


def project_annotations(project: Project):
    """Every annotation of `project`: for leads and owners (names per names_hidden_from)."""
    return project_rows(Annotation, project)


def settled_final_labels(project: Project):
    """The final labels of `project`'s settled items, which every member may read."""
    return project_rows(FinalLabel, project).filter(item__state=Item.State.SETTLED)


def final_record_labels(project: Project):
    return project_rows(FinalRecordLabel, project)


def project_releases(project: Project):
    """The releases of `project` (every member reads and downloads them)."""
    return project_rows(Release, project)


def get_release(project: Project, version: str) -> Release:
    """Release `version` of `project`; 404 otherwise."""
    try:
        return (
            project_releases(project).select_related("project", "created_by").get(version=version)
        )
    except Release.DoesNotExist:
        raise Http404("No such release.") from None


def project_import_jobs(project: Project):
    """The import jobs of `project` (its owners, who start imports, list them)."""
    return project_rows(ImportJob, project)


def all_repository_views(project):
    """Every view `project` (or project id) holds of a repository, mined or not (the mined
    ones, in name order, for the pages: mining.access.project_repository_views)."""
    return project_rows(ProjectRepository, project)


def repository_views_with_items(project: Project):
    """The project's own views of the repositories its items come from, the empty group
    included (a release counts the groups of its dataset)."""
    return all_repository_views(project).filter(repository__issues__items__project=project)
