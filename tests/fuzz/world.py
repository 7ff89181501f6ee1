"""A small project with something behind every API path: settled (imported) items, an
item in conflict, open items, an issue with comments, a repository, a mining job and a
release. Built through the real services, shared by the fuzz tests and bench/bench_fuzz.py."""

from pathlib import Path

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from annotate.labeling.queue import next_item
from annotate.labeling.submission import submit_annotation
from annotate.models import Category, Item, Membership, Role
from annotate.projects import services
from dataset import releases
from dataset.importing import collect_sources, import_dataset
from mining import jobs as mining
from tests.factories import CommentFactory, IssueFactory, ItemFactory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "olf"
ROLES = {"owner": "owner", "lead": "lead", "annotator": "annotator_a", "outsider": "outsider"}
OOM = "Crash > CUDA Error > Out of Memory"
DEVICE = "Crash > CUDA Error > Device Error"


def make_cast() -> dict:
    User = get_user_model()
    return {
        name: User.objects.create_user(name, password=f"{name}-fuzz-password-1")
        for name in ("owner", "lead", "annotator_a", "annotator_b", "outsider", "spare")
    }


def _record(symptom: str) -> list[dict]:
    return [
        {"dimension": "symptom", "category": symptom},
        {"dimension": "root_cause", "category": "Hardware and Resource Limitations"},
        {"dimension": "stage", "category": "Inference"},
    ]


def build_world(*, project, cast) -> dict:
    """Populate `project` (owner, lead, annotator_a and annotator_b already members) and
    return {"tokens": {role: key}, "paths": {path parameter: value}}."""
    services.add_member(project=project, username=cast["spare"].username, role=Role.ANNOTATOR)
    import_dataset(project=project, sources=collect_sources([FIXTURES], "olf"))
    issue = IssueFactory(body="# Crash\n\n<script>alert(1)</script> **bold**")
    CommentFactory.create_batch(2, issue=issue)
    ItemFactory(project=project, issue=issue, position=10_000)
    ItemFactory.create_batch(3, project=project)
    # annotator_a and annotator_b take the same open item and disagree: a conflict.
    for name, symptom in (("annotator_a", OOM), ("annotator_b", DEVICE)):
        item = next_item(project=project, user=cast[name])
        submit_annotation(project=project, user=cast[name], item=item, records=[_record(symptom)])
    next_item(project=project, user=cast["annotator_a"])  # holds an open one
    repository = mining.add_repository(project=project, full_name="QwenLM/Qwen", group="Qwen")
    project.may_use_server_token = True  # staff allow it, so the owner may start jobs
    project.save(update_fields=["may_use_server_token"])
    job = mining.start_mining_job(
        project=project, repositories=[repository], user=cast["owner"], dispatch=False
    )
    release = releases.create_release(project=project, user=cast["owner"], title="fuzz")
    held = Item.objects.filter(project=project, assignments__annotator=cast["annotator_a"])
    item = held.order_by("pk").first()
    spare = Membership.objects.get(project=project, user=cast["spare"])
    tokens = {
        role: Token.objects.get_or_create(user=cast[name])[0].key for role, name in ROLES.items()
    }
    paths = {
        "slug": project.slug,
        "item_id": item.pk,
        "issue_id": issue.pk,
        "category_id": Category.objects.filter(dimension__project=project).first().pk,
        "membership_id": spare.pk,
        "job_id": job.pk,
        "version": release.version,
    }
    return {"tokens": tokens, "paths": paths}
