"""Data for the reliability tests and benches (needs Django set up): a labeling project
with N items and N annotators holding API tokens, and the checks that nothing was lost,
duplicated or half-written."""

from __future__ import annotations

import hashlib
from collections import Counter

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import Count, F, Q
from rest_framework.authtoken.models import Token

from annotate.models import (
    Annotation,
    AnnotationLabel,
    AuditEvent,
    Category,
    FinalLabel,
    Item,
    Role,
)
from annotate.projects import services
from mining.models import Comment, Issue, ProjectRepository, Repository


def build_project(*, slug: str, items: int, annotators: int, leads: int = 0):
    """A project with the study's codebook, `items` items and annotators with tokens.

    Returns (project, annotator tokens, lead tokens)."""
    User = get_user_model()
    owner = User.objects.create_user(f"{slug}-owner", password="reliability-owner-1")
    project = services.create_project(name=slug, slug=slug, owner=owner)
    repo = Repository.objects.create(owner=slug, name="models")
    ProjectRepository.objects.create(project=project, repository=repo, group="Reliability")
    issues = Issue.objects.bulk_create(
        Issue(
            repository=repo,
            number=n + 1,
            title=f"CUDA out of memory while loading, case {n}",
            body="Loading the model fails.\n\n```\nRuntimeError: CUDA out of memory\n```",
            state="closed",
            fetched=True,
        )
        for n in range(items)
    )
    Item.objects.bulk_create(
        Item(project=project, issue=issue, position=n) for n, issue in enumerate(issues)
    )

    def tokens(role, count):
        # The clients authenticate with tokens: users without a usable password skip the
        # password hash add_member would compute for each (0.3 s apiece, 15 s for 50).
        names = [f"{slug}-{role}-{n}" for n in range(count)]
        User.objects.bulk_create(
            User(username=name, password=make_password(None)) for name in names
        )
        keys = []
        for username in names:
            services.add_member(project=project, username=username, role=role)
            keys.append(Token.objects.create(user=User.objects.get(username=username)).key)
        return keys

    return project, tokens(Role.ANNOTATOR, annotators), tokens(Role.LEAD, leads)


def label_bodies(project) -> list[dict]:
    """Two valid annotation bodies that disagree on the root cause (so that some pairs go
    to the conflict queue) and one out-of-scope body."""
    leaves = list(
        Category.objects.filter(
            dimension__project=project, dimension__key="root_cause", children__isnull=True
        ).order_by("path")[:2]
    )

    def body(root):
        labels = [
            {"dimension": "symptom", "category": "Crash > CUDA Error > Out of Memory"},
            {"dimension": "root_cause", "category": root.pk},
            {"dimension": "stage", "category": "Inference"},
        ]
        return {"records": [{"labels": labels}], "confidence": 4, "note": "reliability"}

    out_of_scope = {"out_of_scope": True, "out_of_scope_reason": "Not a failure."}
    return [body(leaves[0]), body(leaves[0]), body(leaves[0]), body(leaves[1]), out_of_scope]


def annotation_counts(project) -> Counter:
    """Items by number of annotations (0, 1, 2, ...)."""
    per_item = Item.objects.filter(project=project).annotate(n=Count("annotations"))
    return Counter(per_item.values_list("n", flat=True))


def integrity_problems(project) -> list[str]:
    """Everything half-written or inconsistent in the project's labeling data."""
    problems = []
    duplicates = (
        Annotation.objects.filter(item__project=project)
        .values("item", "annotator")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if duplicates.exists():
        problems.append(f"duplicate annotations: {list(duplicates[:5])}")
    bare = Annotation.objects.filter(item__project=project, out_of_scope=False).annotate(
        n=Count("labels")
    )
    if bare.filter(n=0).exists():
        problems.append(f"annotations without labels: {list(bare.filter(n=0).values('pk')[:5])}")
    counted = Item.objects.filter(project=project).annotate(n=Count("annotations"))
    wrong = counted.exclude(submitted_count=F("n"))
    if wrong.exists():
        problems.append(
            "submitted_count differs from annotations: "
            f"{list(wrong.values('pk', 'submitted_count', 'n')[:5])}"
        )
    # Calibration items are labeled by everyone, whatever the overlap.
    over = Item.objects.filter(
        project=project, assigned_count__gt=project.overlap, calibration=False
    )
    if over.exists():
        problems.append(f"items over overlap: {list(over.values_list('pk', flat=True)[:5])}")
    strays = AnnotationLabel.objects.filter(item__project=project).exclude(
        item_id=F("annotation__item_id")
    )
    if strays.exists():
        problems.append("labels filed under another item than their annotation's")
    settled_without = Item.objects.filter(
        project=project, state=Item.State.SETTLED, final_label__isnull=True
    )
    if settled_without.exists():
        problems.append("settled items without a final label")
    final_open = FinalLabel.objects.filter(item__project=project).exclude(
        item__state=Item.State.SETTLED
    )
    if final_open.exists():
        problems.append("final labels on items that are not settled")
    return problems


def lost_or_half_written(project, labeled: list) -> list[str]:
    """integrity_problems, plus: an item without exactly `overlap` annotations, or a saved
    submission (as the clients counted them, `labeled`) duplicated or missing."""
    problems = integrity_problems(project)
    counts = annotation_counts(project)
    items = sum(counts.values())
    if counts != {project.overlap: items}:
        problems.append(f"items by annotation count: {dict(counts)}")
    if len(labeled) != len(set(labeled)):
        problems.append(f"{len(labeled) - len(set(labeled))} submissions saved twice")
    if len(labeled) != items * project.overlap:
        problems.append(f"{len(labeled)} submissions saved, {items * project.overlap} expected")
    return problems


def finals_from_half_pairs(project) -> list[str]:
    """Final labels written without a complete set of annotations, read from the audit trail:
    a unanimous label needs `overlap` submissions before it; an adjudicated one needs a
    conflict event (itself after `overlap` submissions) before the decision."""
    overlap = project.overlap
    problems = []
    events = AuditEvent.objects.filter(project=project, item__isnull=False).order_by("pk")
    by_item: dict[int, list] = {}
    for item_id, kind in events.values_list("item_id", "kind"):
        by_item.setdefault(item_id, []).append(kind)
    for final in FinalLabel.objects.filter(item__project=project):
        kinds = by_item.get(final.item_id, [])
        annotations = Annotation.objects.filter(item_id=final.item_id).count()
        if annotations != overlap:
            problems.append(f"item {final.item_id}: final label with {annotations} annotations")
        submitted = 0
        conflict_complete = False
        for kind in kinds:
            if kind == "annotation_submitted":
                submitted += 1
            elif kind == "conflict":
                conflict_complete = submitted == overlap
                if not conflict_complete:
                    problems.append(f"item {final.item_id}: conflict after {submitted}")
            elif kind == "settled" and submitted != overlap:
                problems.append(f"item {final.item_id}: settled after {submitted} submissions")
            elif kind == "adjudicated" and not conflict_complete:
                problems.append(f"item {final.item_id}: decided without a complete conflict")
            elif kind in ("annotation_submitted", "annotation_replaced") and conflict_complete:
                problems.append(f"item {final.item_id}: annotation changed in adjudication")
    return problems


def snapshot_checksum(rows) -> str:
    """A checksum of (id, updated time) pairs, order-independent."""
    digest = hashlib.sha256()
    for github_id, updated in sorted(rows, key=lambda row: row[0]):
        stamp = updated.strftime("%Y-%m-%dT%H:%M:%SZ") if updated else ""
        digest.update(f"{github_id}|{stamp}\n".encode())
    return digest.hexdigest()


def emulator_figures(repo) -> dict:
    """Counts and checksums of an emulator repository's issues and comments."""
    return {
        "issues": len(repo.issues),
        "comments": len(repo.comments),
        "issues_sum": snapshot_checksum((i["id"], i["updated_at"]) for i in repo.issues.values()),
        "comments_sum": snapshot_checksum(
            (c["id"], c["updated_at"]) for c in repo.comments.values()
        ),
    }


def stored_figures(repository) -> dict:
    """The same figures from the database, plus duplicate counts (which must be 0)."""
    issues = Issue.objects.filter(repository=repository, fetched=True, gone="")
    comments = Comment.objects.filter(issue__repository=repository)
    issue_rows = list(issues.values_list("github_id", "updated_at"))
    comment_rows = list(comments.values_list("github_id", "updated_at"))
    return {
        "issues": len(issue_rows),
        "comments": len(comment_rows),
        "issues_sum": snapshot_checksum(issue_rows),
        "comments_sum": snapshot_checksum(comment_rows),
        "duplicate_issue_ids": len(issue_rows) - len({row[0] for row in issue_rows}),
        "duplicate_comment_ids": len(comment_rows) - len({row[0] for row in comment_rows}),
        "placeholders": Issue.objects.filter(repository=repository, fetched=False).count(),
        "duplicate_numbers": issues.values("number")
        .annotate(n=Count("id"))
        .filter(Q(n__gt=1))
        .count(),
    }
