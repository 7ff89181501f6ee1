"""The demo project: the study's codebook, a cast of users, synthetic issues from three
model series, and labels from two simulated annotators with realistic disagreement."""

import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from mining.models import Comment, Issue, Repository
from mining.synthetic import DEMO_REPOSITORIES, generate_issues

from . import services
from .adjudication import settle_if_complete
from .models import (
    Annotation,
    AnnotationLabel,
    Assignment,
    Category,
    Item,
    Membership,
    Project,
    Role,
)

DEMO_SLUG = "llm-deployment-failures"
DEMO_GUIDELINES = """\
Label every issue on three dimensions: **symptom** (what the user saw), **root cause** (why,
as the discussion establishes it) and **stage** (fine-tuning or inference).

- Pick the deepest category that the issue supports; stop at a higher level when unsure.
- An issue that reports no failure (a question, a feature request) is *out of scope*.
- Use *add another failure* only when one issue clearly reports two distinct failures.
- Quote the sentence or log line that decided each dimension as evidence.
"""
DEMO_USERS = [
    ("owner", Role.OWNER),
    ("lead", Role.LEAD),
    ("alice", Role.ANNOTATOR),
    ("bob", Role.ANNOTATOR),
]


@dataclass
class DemoSummary:
    project: Project
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    items: int = 0
    labeled: int = 0


def _issue_from_payload(repository: Repository, payload: dict) -> Issue:
    issue, _ = Issue.objects.update_or_create(
        repository=repository,
        number=payload["number"],
        defaults={
            "github_id": repository.pk * 10**7 + payload["number"],
            "title": payload["title"],
            "body": payload["body"],
            "state": payload["state"],
            "author": payload["user"]["login"],
            "labels": payload["labels"],
            "created_at": payload["created_at"],
            "updated_at": payload["updated_at"],
            "closed_at": payload["closed_at"],
            "comment_count": payload["comments"],
            "is_pull_request": "pull_request" in payload,
            "fetched": True,
        },
    )
    for comment in payload["_comments"]:
        Comment.objects.update_or_create(
            github_id=comment["id"] + repository.pk * 10**9,
            defaults={
                "issue": issue,
                "author": comment["user"]["login"],
                "body": comment["body"],
                "created_at": comment["created_at"],
                "updated_at": comment["updated_at"],
            },
        )
    return issue


def insert_demo_issues(*, project: Project, per_repository: int) -> dict[int, dict]:
    """Create the demo repositories, issues, comments and items; return each item's truth."""
    truths = {}
    position = 0
    for owner, name, group, metadata in DEMO_REPOSITORIES:
        repository, _ = Repository.objects.update_or_create(
            owner=owner, name=name, defaults={"group": group, "metadata": metadata}
        )
        for payload in generate_issues(owner, name, per_repository, seed=7):
            issue = _issue_from_payload(repository, payload)
            item, _ = Item.objects.get_or_create(
                project=project,
                issue=issue,
                defaults={
                    "position": position,
                    "metadata": metadata,
                    "snapshot_title": issue.title,
                    "snapshot_body": issue.body,
                },
            )
            truths[item.pk] = payload["_truth"]
            position += 1
    return truths


def _simulated_choice(rng, truth_path, by_path, siblings, accuracy):
    category = by_path[truth_path]
    if rng.random() < accuracy:
        return category
    # A realistic slip: a sibling (same parent) more often than a different branch.
    options = [c for c in siblings[category.parent_id] if c.pk != category.pk]
    if options and rng.random() < 0.7:
        return rng.choice(options)
    return rng.choice(list(by_path.values()))


def label_demo_items(*, project: Project, truths: dict[int, dict], annotators, share: float):
    """Have the simulated annotators label `share` of the items; settle what agrees."""
    dimensions = {d.key: d for d in project.dimensions.all()}
    categories = list(Category.objects.filter(dimension__project=project))
    by_path = {(c.dimension_id, c.path): c for c in categories}
    siblings: dict = {}
    for c in categories:
        siblings.setdefault(c.parent_id, []).append(c)
    accuracy = {"symptom": 0.9, "root_cause": 0.85, "stage": 0.97}
    labeled = 0
    items = Item.objects.filter(project=project).select_related("project").order_by("position")
    for item in items:
        # One generator per item: the same item gets the same labels on every run.
        rng = random.Random(f"demo-labels-{item.position}")
        if rng.random() >= share or item.pk not in truths:
            continue
        if Annotation.objects.filter(item=item).exists():
            continue
        truth = truths[item.pk]
        for annotator in annotators:
            Assignment.objects.update_or_create(
                item=item,
                annotator=annotator,
                defaults={"state": Assignment.State.SUBMITTED, "completed_at": timezone.now()},
            )
            annotation = Annotation.objects.create(
                item=item,
                annotator=annotator,
                confidence=rng.choice([3, 4, 4, 5]),
                codebook_version=project.codebook_version,
            )
            labels = []
            for key, dimension in dimensions.items():
                dim_by_path = {p: c for (d, p), c in by_path.items() if d == dimension.pk}
                chosen = _simulated_choice(rng, truth[key], dim_by_path, siblings, accuracy[key])
                labels.append(
                    AnnotationLabel(
                        annotation=annotation,
                        item=item,
                        annotator=annotator,
                        record=0,
                        dimension=dimension,
                        category=chosen,
                    )
                )
            AnnotationLabel.objects.bulk_create(labels)
        Item.objects.filter(pk=item.pk).update(
            assigned_count=len(annotators), submitted_count=len(annotators)
        )
        item.refresh_from_db()
        settle_if_complete(item=item)
        labeled += 1
    return labeled


@transaction.atomic
def seed_demo(*, password: str, per_repository: int = 30, share: float = 0.4) -> DemoSummary:
    """Create or complete the demo. Idempotent: a second run leaves the same demo."""
    User = get_user_model()
    users = {}
    for username, _role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = username == "owner"
        user.is_superuser = username == "owner"
        user.save()
        users[username] = user
    project = Project.objects.filter(slug=DEMO_SLUG).first()
    if project is None:
        project = services.create_project(
            name="LLM deployment failures",
            slug=DEMO_SLUG,
            owner=users["owner"],
            description="Failures reported against DeepSeek, Llama and Qwen repositories.",
            guidelines=DEMO_GUIDELINES,
        )
    for username, role in DEMO_USERS:
        Membership.objects.update_or_create(
            project=project, user=users[username], defaults={"role": role}
        )
    truths = insert_demo_issues(project=project, per_repository=per_repository)
    labeled = label_demo_items(
        project=project, truths=truths, annotators=[users["alice"], users["bob"]], share=share
    )
    summary = DemoSummary(project=project, items=len(truths), labeled=labeled)
    summary.logins = [(u, r, password) for u, r in DEMO_USERS]
    return summary
