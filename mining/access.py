"""Scoped lookups for the miner's pages and API (on top of annotate.access: non-members
get 404, roles too low 403)."""

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Concat, Lower
from django.http import Http404

from annotate.access import MANAGERS, get_project_for_user

from .models import Comment, FixLink, MiningJob, ProjectRepository, Repository


def get_job_for_user(user, slug: str, job_id, roles=MANAGERS):
    """(project, membership, job) for a job of project `slug` the caller may see."""
    project, membership = get_project_for_user(user, slug, roles=roles)
    try:
        job = MiningJob.objects.prefetch_related("repositories").get(project=project, pk=job_id)
    except (MiningJob.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None
    return project, membership, job


def project_repositories(project):
    """The repositories `project` mines."""
    return Repository.objects.filter(views__project=project, views__mined=True).order_by(
        "owner", "name"
    )


def project_repository_views(project):
    """The project's own views (group, metadata, its last sync) of the repositories it
    mines; no other project's."""
    return (
        ProjectRepository.objects.filter(project=project, mined=True)
        .select_related("repository")
        .order_by("repository__owner", "repository__name")
    )


def every_repository_view(project):
    """Every view `project` holds of a repository, in name order: those it mines and those
    it knows through imported links (their group is the project's all the same)."""
    return (
        ProjectRepository.objects.filter(project=project)
        .select_related("repository")
        .order_by("repository__owner", "repository__name")
    )


def get_repository_view_for_user(user, slug: str, repository_id, roles=MANAGERS):
    """(project, membership, view): project `slug`'s own view of a repository it holds,
    for a member with one of `roles` (404 for non-members and unknown repositories)."""
    project, membership = get_project_for_user(user, slug, roles=roles)
    try:
        view = every_repository_view(project).get(repository_id=repository_id)
    except (ProjectRepository.DoesNotExist, ValueError, TypeError):
        raise Http404("No such repository in this project.") from None
    return project, membership, view


class ProjectGroups:
    """repository id -> `project`'s own group of it (read once, on first use), for the
    serializers that show an issue's group: another project's group never shows."""

    def __init__(self, project):
        self.project = project
        self._groups = None

    def get(self, repository_id) -> str:
        if self._groups is None:
            views = ProjectRepository.objects.filter(project=self.project)
            self._groups = dict(views.values_list("repository_id", "group"))
        return self._groups.get(repository_id, "")


def project_group(project, repository_id) -> str:
    return ProjectGroups(project).get(repository_id)


def repository_view(project, repository):
    return ProjectRepository.objects.select_related("repository").get(
        project=project, repository=repository
    )


def project_jobs(project):
    return MiningJob.objects.filter(project=project).prefetch_related("repositories")


# ----- who reads a mined issue's text -------------------------------------------------------
# Issues and comments are shared rows; a project may mine a private repository with its own
# token. So a project reads an issue's text (title, body, author, GitHub labels, raw JSON, dates,
# comments) only when the repository is known public (Repository.private is False) or one of
# the project's own jobs fetched from it (ProjectRepository.fetched_at). Everyone else sees
# the link, number and state it named itself (an import), never the text.
def readable_repositories_q(project, prefix: str = "") -> Q:
    """A Q on Repository (or, with `prefix` such as "repository__", on a model reaching
    one) for the repositories whose issues' text `project` may read."""
    fetched = ProjectRepository.objects.filter(project=project, fetched_at__isnull=False)
    return Q(**{f"{prefix}private": False}) | Q(
        **{f"{prefix}pk__in": fetched.values("repository_id")}
    )


def readable_by_own_project_q(prefix: str = "") -> Q:
    """A Q on items (or, with `prefix` such as "item__", on a model reaching one): those
    whose issue's text the item's own project may read (the rule of
    readable_repositories_q, joined to each row's project), for a query over items that
    must not tell what a hidden text says (full-text search, the export's fix links)."""
    fetched = ProjectRepository.objects.filter(
        project=OuterRef(f"{prefix}project"),
        repository=OuterRef(f"{prefix}issue__repository"),
        fetched_at__isnull=False,
    )
    return Q(**{f"{prefix}issue__repository__private": False}) | Exists(fetched)


def unreadable_repository_ids(project) -> list[int]:
    """The repositories whose issues' text `project` may not read (not known public and not
    fetched by the project): usually none, so a query over one project's items can skip
    the rule's join through every item's issue."""
    fetched = ProjectRepository.objects.filter(project=project, fetched_at__isnull=False)
    hidden = Repository.objects.exclude(private=False).exclude(
        pk__in=fetched.values("repository_id")
    )
    return list(hidden.values_list("pk", flat=True))


def blank_issue(issue):
    """Blank, in memory, what only a fetch of the issue tells: its text, GitHub labels,
    author, dates and comment count (not its link, number or state, which an import
    names itself). `fetched` reads False: not fetched for this project."""
    issue.title = issue.body = issue.author = ""
    issue.labels, issue.raw = [], {}
    issue.created_at = issue.updated_at = issue.closed_at = None
    issue.comment_count, issue.fetched = 0, False
    return issue


class TextAccess:
    """Whether `project` may read the text of an issue (read once, on first use), and the
    issue as the project may see it: `hide()` blanks the text of an unreadable one in
    memory (never saved; mined rows are written by the miner only)."""

    def __init__(self, project):
        self.project = project
        self._fetched = None

    def readable(self, issue) -> bool:
        if issue.repository.private is False:
            return True
        if self._fetched is None:
            views = ProjectRepository.objects.filter(project=self.project, fetched_at__isnull=False)
            self._fetched = set(views.values_list("repository_id", flat=True))
        return issue.repository_id in self._fetched

    def hide(self, issue):
        """`issue` itself, its text blanked unless the project may read it."""
        if issue is not None and not getattr(issue, "text_hidden", False):
            issue.text_hidden = not self.readable(issue)
            if issue.text_hidden:
                blank_issue(issue)
        return issue

    def hide_item(self, item):
        """`item` with its issue as above; an unreadable issue's item shows no snapshot
        either (copies made before this rule may hold the text)."""
        if self.hide(item.issue).text_hidden:
            item.snapshot_title = item.snapshot_body = ""
        return item

    def comments(self, issue):
        """The issue's comments, or none when the project may not read its text."""
        if not self.readable(issue):
            return Comment.objects.none()
        return issue.comments.all()


def hide_unreadable(project, items):
    """Blank, in memory, the text of the items (and their issues) `project` may not read;
    returns them."""
    access = TextAccess(project)
    return [access.hide_item(item) for item in items]


def _lower_full_name(prefix: str = "") -> Concat:
    """lower(owner) || '/' || lower(name) of a Repository (or, with `prefix` such as
    "repository__", of one a model reaches): how FixLink.repository_name spells it."""
    parts = (Lower(f"{prefix}owner"), Value("/"), Lower(f"{prefix}name"))
    return Concat(*parts, output_field=CharField())


def visible_links_q(project) -> Q:
    """A Q on FixLink: the links whose own repository (the pull request's or commit's,
    `repository_name`) `project` may read. An issue's links are shared rows, and GitHub
    tells a token that reads a private repository of that repository's pull requests and
    commits that mention a public issue, titles and all. A link shows when it lives in
    the issue's own repository (the issue's rule applies), or the project's own jobs
    fetched from its repository, or else when GitHub did not call its repository private
    (`repository_private`; None for rows mined before it was fetched) and no repository
    known here by that name is unreadable by the project (not known public).

    `project`: a Project (or its pk), or an OuterRef naming it from the query the FixLink
    query sits in (the distributions: OuterRef("item__project"))."""
    inner = OuterRef(project) if isinstance(project, OuterRef) else project
    fetched = ProjectRepository.objects.alias(full=_lower_full_name("repository__")).filter(
        project=inner, fetched_at__isnull=False, full=OuterRef("repository_name")
    )
    not_public = (
        Repository.objects.alias(full=_lower_full_name())
        .filter(full=OuterRef("repository_name"))
        .exclude(private=False)
    )
    home = Q(repository_name=_lower_full_name("issue__repository__"))
    not_private = Q(repository_private=False) | Q(repository_private__isnull=True)
    return home | Exists(fetched) | (not_private & ~Exists(not_public))


def readable_fix_links(project, issue_ids):
    """The fix links of `issue_ids` that `project` may read: their issue's text is
    readable (a fix's title is GitHub text, under the issue's rule) and so is their own
    repository (visible_links_q). One query."""
    rows = FixLink.objects.filter(issue_id__in=issue_ids)
    rows = rows.filter(readable_repositories_q(project, "issue__repository__"))
    return rows.filter(visible_links_q(project))
