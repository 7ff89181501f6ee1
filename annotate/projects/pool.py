"""The labeling pool: from a project's mined issues to its Items, through filters and an
optional seeded sample whose definition is stored with the project (to reproduce it)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass, field
from datetime import date

from django.db import DataError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from annotate.access import all_repository_views, project_items
from annotate.models import Item, Project
from annotate.projects.pool_duplicates import Folded, fold, preview
from mining.models import Issue


class PoolError(Exception):
    pass


@dataclass
class PoolDefinition:
    repositories: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    state: str = ""  # "", "open" or "closed"
    labels: list[str] = field(default_factory=list)
    keywords: str = ""
    regex: str = ""
    created_after: date | None = None
    created_before: date | None = None
    min_comments: int = 0
    sample_size: int | None = None  # None: every issue that passes
    seed: int = 0
    stratify: bool = False
    # Near-duplicates folded at this similarity (one representative per group), or None.
    near_duplicates: float | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("created_after", "created_before"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> PoolDefinition:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("created_after", "created_before"):
            if data.get(key):
                data[key] = date.fromisoformat(data[key])
        return cls(**data)


def _steps(project: Project, definition: PoolDefinition):
    """(label, Q) for each filter that is set, in the order the funnel shows them."""
    d = definition
    steps = [("pull requests excluded", Q(is_pull_request=False))]
    duplicate = _has_label("duplicate") | _json_text_has("raw", '"state_reason": "duplicate"')
    steps.append(("duplicates and deleted issues excluded", ~duplicate & Q(gone="")))
    if d.repositories:
        steps.append(("repositories", Q(repository__in=d.repositories)))
    if d.groups:
        groups = all_repository_views(project).filter(group__in=d.groups)
        steps.append(("groups", Q(repository__in=groups.values("repository_id"))))
    if d.state:
        steps.append((f"state {d.state}", Q(state=d.state)))
    if d.labels:
        any_label = Q()
        for label in d.labels:
            any_label |= _has_label(label)
        steps.append(("GitHub labels", any_label))
    if d.keywords.strip():
        steps.append(("keywords", _keyword_q(d.keywords)))
    if d.regex:
        try:
            re.compile(d.regex)
        except re.error as error:
            raise PoolError(f"Invalid regular expression: {error}") from None
        _check_database_regex(d.regex)
        steps.append(("regular expression", Q(title__iregex=d.regex) | Q(body__iregex=d.regex)))
    if d.created_after:
        steps.append(
            (f"created on or after {d.created_after}", Q(created_at__date__gte=d.created_after))
        )
    if d.created_before:
        steps.append(
            (f"created on or before {d.created_before}", Q(created_at__date__lte=d.created_before))
        )
    if d.min_comments:
        steps.append((f"at least {d.min_comments} comments", Q(comment_count__gte=d.min_comments)))
    return steps


def _check_database_regex(regex: str) -> None:
    """PostgreSQL's regular expressions are not Python's: '(?P<n>x)' or 'x{0,100000}'
    compile in Python and fail in the query (a 500). Ask the database first."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~* %s", [regex])
    except DataError as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else "rejected"
        raise PoolError(f"Invalid regular expression for the database: {message}") from None


def _has_label(name: str) -> Q:
    """Issues carrying GitHub label `name` (stored as a list of names)."""
    if connection.vendor == "postgresql":
        return Q(labels__contains=[name])
    return _json_text_has("labels", json.dumps(name))


def _json_text_has(field: str, fragment: str) -> Q:
    """JSON containment where the database has none (the laptop's SQLite): a match on the
    stored JSON text, which is exact for the fragments used here."""
    if connection.vendor == "postgresql" and field == "raw":
        return Q(raw__contains=json.loads("{" + fragment + "}"))
    return Q(**{f"{field}__icontains": fragment})


def _keyword_q(keywords: str) -> Q:
    """PostgreSQL full-text search (web-search syntax) over title and body; a plain
    every-word substring match elsewhere (the laptop's SQLite)."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        matching = Issue.objects.annotate(
            document=SearchVector("title", "body", config="english")
        ).filter(document=SearchQuery(keywords, search_type="websearch", config="english"))
        return Q(pk__in=matching.values("pk"))
    q = Q()
    for word in keywords.split():
        q &= Q(title__icontains=word) | Q(body__icontains=word)
    return q


def base_issues(project: Project):
    """The issues of the repositories `project` mines and has synced itself: a repository's
    rows are shared, so naming one another project mined (with its own token, perhaps a
    private repository) must not open what that project fetched."""
    mined = all_repository_views(project).filter(mined=True, last_synced_at__isnull=False)
    mined = mined.values("repository_id")
    return Issue.objects.filter(repository__in=mined, fetched=True)


def folded_pool(project: Project, definition: PoolDefinition) -> Folded | None:
    """The near-duplicate groups of the issues that pass (None without a threshold): one
    grouping, which a request hands to funnel, duplicate_preview and build_pool (each is
    a minute or more on 100,000 issues)."""
    if not definition.near_duplicates:
        return None
    return fold(_passing_ids(project, definition), definition.near_duplicates)


def funnel(
    project: Project, definition: PoolDefinition, folded: Folded | None = None
) -> list[tuple[str, int]]:
    """How many issues remain after each filter, in order (one COUNT each; the folding
    of near-duplicates groups the issues left, pool_duplicates; `folded` is folded_pool's
    when the caller has it)."""
    issues = base_issues(project)
    rows = [("mined issues and pull requests", issues.count())]
    for label, q in _steps(project, definition):
        issues = issues.filter(q)
        rows.append((label, issues.count()))
    if definition.near_duplicates:
        folded = folded or folded_pool(project, definition)
        rows.append((f"near-duplicates folded (similarity ≥ {definition.near_duplicates})",
                     len(folded.kept)))  # fmt: skip
    return rows


def duplicate_preview(
    project: Project, definition: PoolDefinition, folded: Folded | None = None
) -> list[dict]:
    """The largest near-duplicate groups among the issues that pass, with examples."""
    if not definition.near_duplicates:
        return []
    return preview(folded or folded_pool(project, definition))


def _passing(project: Project, definition: PoolDefinition):
    issues = base_issues(project)
    for _label, q in _steps(project, definition):
        issues = issues.filter(q)
    return issues.order_by("repository__owner", "repository__name", "number")


def _passing_ids(project: Project, definition: PoolDefinition) -> list[int]:
    return list(_passing(project, definition).values_list("pk", flat=True))


def select_issue_ids(
    project: Project, definition: PoolDefinition, folded: Folded | None = None
) -> list[int]:
    """The pool's issue ids in sample order: all that pass (by repository and number), or a
    random sample with `seed`, optionally stratified by repository (proportional)."""
    rows = list(_passing(project, definition).values_list("pk", "repository_id"))
    if definition.near_duplicates:
        folded = folded or fold([pk for pk, _ in rows], definition.near_duplicates)
        kept = set(folded.kept)
        rows = [(pk, repository_id) for pk, repository_id in rows if pk in kept]
    size = definition.sample_size
    if size is None or size >= len(rows):
        return [pk for pk, _ in rows]
    rng = random.Random(definition.seed)
    if not definition.stratify:
        return rng.sample([pk for pk, _ in rows], size)
    strata: dict[int, list[int]] = {}
    for pk, repository_id in rows:
        strata.setdefault(repository_id, []).append(pk)
    quotas = _proportional(strata, size, len(rows))
    chosen = []
    for repository_id in sorted(strata):
        chosen.extend(rng.sample(strata[repository_id], quotas[repository_id]))
    rng.shuffle(chosen)
    return chosen


def _proportional(strata: dict[int, list], size: int, total: int) -> dict[int, int]:
    """Largest-remainder allocation of `size` over the strata, proportional to their size."""
    exact = {key: size * len(members) / total for key, members in strata.items()}
    quotas = {key: int(value) for key, value in exact.items()}
    leftover = size - sum(quotas.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - quotas[k]), k))[:leftover]:
        quotas[key] += 1
    return quotas


@transaction.atomic
def build_pool(
    *, project: Project, definition: PoolDefinition, user=None, folded: Folded | None = None
) -> list[Item]:
    """Add the selected issues to `project` as Items (position = sample order, metadata =
    the repository's, snapshot = the text annotators will see) and store the definition.
    Idempotent: issues already in the project keep their item (and labels). `folded` is
    folded_pool's for this definition when the caller has it."""
    ids = select_issue_ids(project, definition, folded)
    existing = set(project_items(project).values_list("issue_id", flat=True))
    start = (project_items(project).aggregate(m=Max("position"))["m"] or -1) + 1
    issues = Issue.objects.in_bulk(ids)
    metadata = dict(all_repository_views(project).values_list("repository_id", "metadata"))
    new = []
    for issue_id in ids:
        if issue_id in existing:
            continue
        issue = issues[issue_id]
        new.append(
            Item(
                project=project,
                issue=issue,
                position=start + len(new),
                metadata=dict(metadata.get(issue.repository_id) or {}),
                snapshot_title=issue.title,
                snapshot_body=issue.body,
            )
        )
    Item.objects.bulk_create(new)
    project.sample_definition = {
        **definition.as_json(),
        "selected": len(ids),
        "added": len(new),
        "built_at": timezone.now().isoformat(),
        "built_by": getattr(user, "username", None),
    }
    project.save(update_fields=["sample_definition"])
    return list(project_items(project).filter(issue_id__in=ids).order_by("position"))
