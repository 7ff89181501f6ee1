"""A project in every interesting state, built through the real services, for the security
tests: items in conflict, decided, in discussion, settled, half-submitted and held; a second
project with its own annotator; a repository, a mining job and a release.

Every free text the app shows (issue titles, bodies, comments, category names, notes,
evidence, rationales, project texts, repository group and metadata) comes from `text(field)`,
so the XSS tests can fill them with payloads and the other tests with plain words."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from annotate.adjudication.decisions import decide_item, parse_records
from annotate.adjudication.discussion import start_discussion
from annotate.adjudication.inbox import post_message
from annotate.codebook import services as codebook
from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import (
    Category,
    ImportJob,
    Item,
    Membership,
    Project,
    Rater,
    RaterItem,
    RaterLabel,
    RaterRun,
    Role,
)
from annotate.projects import services
from dataset import releases
from mining.models import MiningJob, ProjectRepository
from tests.builders import wire
from tests.factories import CommentFactory, IssueFactory, ItemFactory, RepositoryFactory

OTHER_SLUG = "other-project"
ITEM_KEYS = ("conflict", "decided", "discussion", "settled", "half", "held")


@dataclass
class World:
    project: Project
    other: Project
    users: dict
    items: dict
    other_item: Item
    category: Category
    membership: Membership
    job: MiningJob
    other_job: MiningJob
    import_job: ImportJob
    other_import_job: ImportJob
    release_version: str
    texts: dict = field(default_factory=dict)
    # A machine rater shown in adjudication, with a finished run that labeled every item.
    rater_id: int = 0
    run_id: int = 0
    other_rater_id: int = 0
    other_run_id: int = 0

    def kwargs(self, item_key: str = "conflict") -> dict:
        """Values for every URL parameter of the project's pages and endpoints."""
        item = self.items[item_key]
        return {
            "slug": self.project.slug,
            "item_id": item.pk,
            "issue_id": item.issue_id,
            "job_id": self.job.pk,
            "repository_id": self.job.repositories.get().pk,
            "import_id": self.import_job.pk,
            "membership_id": self.membership.pk,
            "category_id": self.category.pk,
            "version": self.release_version,
            "rater_id": self.rater_id,
            "run_id": self.run_id,
        }


def _leaf(project, key: str, exclude=None) -> Category:
    leaves = Category.objects.filter(
        dimension__project=project, dimension__key=key, children__isnull=True, retired=False
    ).order_by("path")
    if exclude is not None:
        leaves = leaves.exclude(pk=exclude.pk)
    return leaves.first()


def _records(symptom, root, stage, evidence: str) -> list[list[dict]]:
    return [
        [
            {"dimension": "symptom", "category": symptom.pk, "evidence": evidence},
            {"dimension": "root_cause", "category": root.pk, "evidence": evidence},
            {"dimension": "stage", "category": stage.pk},
        ]
    ]


def _take(project, user, item):
    taken = next_item(project=project, user=user)
    assert taken is not None and taken.pk == item.pk, (user.username, item.pk, taken)


def build_world(cast, project, text=lambda name: name) -> World:
    """The world; `text(name)` gives the free text stored under `name`."""
    texts = {}

    def t(name):
        texts[name] = text(name)
        return texts[name]

    User = get_user_model()
    other_annotator = User.objects.get_or_create(username="other_annotator")[0]
    other_annotator.set_password("pw-for-tests-123")
    other_annotator.save()
    users = dict(cast, other_annotator=other_annotator)

    Project.objects.filter(pk=project.pk).update(
        name=t("project_name"), description=t("project_description"), guidelines=t("guidelines")
    )
    project.refresh_from_db()
    symptom_dim = project.dimensions.get(key="symptom")
    category = codebook.add_category(
        project=project,
        actor=cast["owner"],
        dimension=symptom_dim,
        name=t("category_name"),
        description=t("category_description"),
    )
    repo = RepositoryFactory(owner="QwenLM", name="Qwen2.5")
    ProjectRepository.objects.create(
        project=project,
        repository=repo,
        group=t("repo_group"),
        metadata={"model": t("repo_model")},
        mined=True,
    )
    items = {}
    for position, key in enumerate(ITEM_KEYS, start=1):
        issue = IssueFactory(repository=repo, title=t(f"title_{key}"), body=t(f"body_{key}"))
        CommentFactory(issue=issue, body=t(f"comment_{key}"))
        items[key] = ItemFactory(project=project, issue=issue, position=position)

    a, b, lead = cast["annotator_a"], cast["annotator_b"], cast["lead"]
    root = _leaf(project, "root_cause")
    other_root = _leaf(project, "root_cause", exclude=root)
    stage = _leaf(project, "stage")
    other_symptom = _leaf(project, "symptom", exclude=category)
    for key in ("conflict", "decided", "discussion", "settled"):
        item = items[key]
        _take(project, a, item)
        submit_annotation(
            project=project,
            user=a,
            item=item,
            records=_records(category, root, stage, t(f"evidence_a_{key}")),
            note=t(f"note_a_{key}"),
        )
        _take(project, b, item)
        b_root = root if key == "settled" else other_root
        b_symptom = category if key == "settled" else other_symptom
        submit_annotation(
            project=project,
            user=b,
            item=item,
            records=_records(b_symptom, b_root, stage, t(f"evidence_b_{key}")),
            note=t(f"note_b_{key}"),
        )
    # `half`: annotator_a submitted, annotator_b holds it; `held`: annotator_a holds it.
    _take(project, a, items["half"])
    submit_annotation(
        project=project,
        user=a,
        item=items["half"],
        records=_records(category, root, stage, t("evidence_a_half")),
        note=t("note_a_half"),
    )
    _take(project, b, items["half"])
    _take(project, a, items["held"])

    decided = items["decided"]
    decide_item(
        item=decided,
        actor=lead,
        records=parse_records(
            project=project,
            raw_records=[wire({"symptom": category.pk, "root_cause": root.pk, "stage": stage.pk})],
        ),
        rationale=t("rationale"),
        codebook_needs_work=True,
    )
    start_discussion(item=items["discussion"], actor=lead, note=t("discussion_note"))
    post_message(item=items["discussion"], author=a, body=t("discussion_reply"))
    for item in items.values():
        item.refresh_from_db()
    assert items["conflict"].state == Item.State.CONFLICT
    assert items["decided"].state == Item.State.SETTLED
    assert items["discussion"].state == Item.State.DISCUSSION
    assert items["settled"].state == Item.State.SETTLED
    assert items["half"].state == Item.State.OPEN

    other = services.create_project(
        name="Other project", slug=OTHER_SLUG, owner=User.objects.get_or_create(username="o2")[0]
    )
    services.add_member(project=other, username="other_annotator", role=Role.ANNOTATOR)
    other_issue = IssueFactory(repository=RepositoryFactory(owner="other", name="repo"))
    other_item = ItemFactory(project=other, issue=other_issue)
    _take(other, other_annotator, other_item)

    job = MiningJob.objects.create(project=project, status=MiningJob.Status.DONE)
    job.repositories.add(repo)
    other_job = MiningJob.objects.create(project=other, status=MiningJob.Status.DONE)
    release = releases.create_release(project=project, user=cast["owner"], title=t("release"))
    import_job, other_import_job = (
        ImportJob.objects.create(
            project=owner_of,
            created_by=cast["owner"],
            format="olf",
            labels="final",
            status=ImportJob.Status.FAILED,
            error=t("import error"),
            files=[{"name": t("import file"), "path": "/nonexistent/0000", "size": 1}],
        )
        for owner_of in (project, other)
    )
    membership = Membership.objects.get(project=project, user=b)
    rater, run = _machine_rater(project, items, t, category, root, stage)
    other_rater, other_run = _machine_rater(other, {}, t, None, None, None)
    world = World(
        project=project,
        other=other,
        users=users,
        items=items,
        other_item=other_item,
        category=category,
        membership=membership,
        job=job,
        other_job=other_job,
        import_job=import_job,
        other_import_job=other_import_job,
        release_version=release.version,
        texts=texts,
        rater_id=rater.pk,
        run_id=run.pk,
        other_rater_id=other_rater.pk,
        other_run_id=other_run.pk,
    )
    return world


def _machine_rater(project, items, t, symptom, root, stage):
    """A built-in rater whose finished run labeled every item of `items`, with evidence
    `machine_evidence_<key>` (which no human may see before adjudication)."""
    rater = Rater.objects.create(
        project=project, kind=Rater.Kind.BUILTIN, name="machine rater",
        visible_in_adjudication=True,
    )  # fmt: skip
    run = RaterRun.objects.create(
        rater=rater, number=1, codebook_version=1, status=RaterRun.Status.SUCCEEDED
    )
    for key, item in items.items():
        RaterItem.objects.create(run=run, item=item, outcome=RaterItem.Outcome.LABELED)
        for category in (symptom, root, stage):
            RaterLabel.objects.create(
                run=run, item=item, dimension=category.dimension, category=category,
                confidence=0.8, evidence=t(f"machine_evidence_{key}"), quote_found=False,
            )  # fmt: skip
    return rater, run
