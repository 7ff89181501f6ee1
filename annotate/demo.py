"""The demo project: the study's codebook, a cast of users, synthetic issues from three
model series mined from the GitHub emulator, and labels from two simulated annotators who
work through the real queue, with realistic disagreement."""

import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction

from annotate.adjudication.discussion import start_discussion
from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Annotation, Category, Item, Membership, Project, Role
from annotate.projects import services
from annotate.projects.pool import PoolDefinition, build_pool
from mining.demo import demo_truth, mine_demo_issues
from mining.synthetic import DEMO_REPOSITORIES

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
# How often a simulated annotator picks the generating category, per dimension.
ACCURACY = {"symptom": 0.93, "root_cause": 0.9, "stage": 0.98}


@dataclass
class DemoSummary:
    project: Project
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    items: int = 0
    labeled: int = 0


class _Annotator:
    """A simulated annotator: the truth most of the time, else a plausible slip."""

    def __init__(self, project: Project, seed: str):
        self.rng = random.Random(seed)
        self.categories = {}
        self.siblings = {}
        for category in Category.objects.filter(dimension__project=project, retired=False):
            key = (category.dimension.key, category.path)
            self.categories[key] = category
            self.siblings.setdefault((category.dimension.key, category.parent_id), []).append(
                category
            )

    def choose(self, dimension: str, truth_path: str) -> str:
        category = self.categories[(dimension, truth_path)]
        if self.rng.random() < ACCURACY[dimension]:
            return category.path
        options = [c for c in self.siblings[(dimension, category.parent_id)] if c.pk != category.pk]
        if options and self.rng.random() < 0.7:
            return self.rng.choice(options).path
        return self.rng.choice([c for (d, _), c in self.categories.items() if d == dimension]).path


def load_demo_issues(
    *, project: Project, repositories=DEMO_REPOSITORIES, per_repository: int
) -> list[Item]:
    """Mine the demo's generated issues (mining.demo) and make every issue (not the pull
    requests) an item of `project`. Deterministic and idempotent. Returns the project's
    items in position order."""
    repos = mine_demo_issues(
        project=project, repositories=repositories, per_repository=per_repository
    )
    build_pool(project=project, definition=PoolDefinition(repositories=[r.pk for r in repos]))
    return list(Item.objects.filter(project=project).select_related("issue").order_by("position"))


def label_demo_items(*, project: Project, annotators, target: int) -> int:
    """Each annotator asks the real queue for items and submits until they have labeled
    `target` items; the queue gives the second annotator the first one's items first.
    Idempotent: annotators who reached the target label nothing more."""
    created = 0
    for user in annotators:
        done = Annotation.objects.filter(item__project=project, annotator=user).count()
        annotator = _Annotator(project, seed=f"demo-{user.username}-{done}")
        for _ in range(max(0, target - done)):
            item = next_item(project=project, user=user)
            if item is None:
                break
            truth = demo_truth(item.issue)
            record = [
                {"dimension": key, "category": annotator.choose(key, truth[key])}
                for key in ("symptom", "root_cause", "stage")
            ]
            submit_annotation(
                project=project,
                user=user,
                item=item,
                records=[record],
                confidence=annotator.rng.choice([3, 4, 4, 5]),
                # About a minute and a quarter an item, from a generator of its own so
                # that the labels stay those of earlier demos.
                active_seconds=round(
                    random.Random(f"time-{user.username}-{item.pk}").lognormvariate(4.3, 0.5)
                ),
            )
            created += 1
    return created


DEMO_NOTE = (
    "You two read this one differently. Look at the first lines of the trace again and "
    "tell me which symptom it shows; revise your labels if you change your mind."
)


def send_one_back(*, project: Project, lead) -> None:
    """Send one conflict back to its annotators with a note, so that the inbox has something
    to show (keeping at least one conflict in the queue). Idempotent: once per demo."""
    if Item.objects.filter(project=project, discussed=True).exists():
        return
    conflicts = list(Item.objects.filter(project=project, state=Item.State.CONFLICT)[:2])
    if len(conflicts) == 2:
        start_discussion(item=conflicts[1], actor=lead, note=DEMO_NOTE)


@transaction.atomic
def seed_demo(*, password: str, per_repository: int = 30, share: float = 0.4) -> DemoSummary:
    """Create or complete the demo. Idempotent: a second run leaves the same demo."""
    User = get_user_model()
    users = {}
    for username, _role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = username == "owner"
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
    items = load_demo_issues(project=project, per_repository=per_repository)
    labeled = label_demo_items(
        project=project,
        annotators=[users["alice"], users["bob"]],
        target=round(share * len(items)),
    )
    send_one_back(project=project, lead=users["lead"])
    summary = DemoSummary(project=project, items=len(items), labeled=labeled)
    summary.logins = [(u, r, password) for u, r in DEMO_USERS]
    return summary
