"""Raters and their runs: adding a rater, starting k runs (each a Celery job), claiming a
run, resuming a failed one, and running it with the rater's kind. A run records what it
did per item (RaterItem), so running it again skips the items already done."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlparse

from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from annotate.access import latest_finished_runs, project_items, project_rater_runs
from annotate.errors import Conflict, ServiceError
from annotate.models import AuditEvent, Item, Project, Rater, RaterItem, RaterRun
from annotate.raters.prompt import PROMPT_VERSION

# The task's time limit is 30 minutes: a run "running" longer lost its worker.
STALE_AFTER = timedelta(minutes=31)
MAX_RUNS_PER_START = 10


class RaterBusy(Conflict):
    """The rater has a run queued or running; nothing was started."""


class RunFailed(Exception):
    """A run cannot go on (no labels to learn from, an unreadable key...); the message is
    the run's error."""


def _check_config(
    *, kind, name, model, base_url, temperature, runs_per_start, prompt_version
) -> dict:
    fields: dict[str, str] = {}
    if prompt_version != PROMPT_VERSION:
        # One prompt exists: a run stores its rater's version and would say it asked with
        # a prompt it never had.
        fields["prompt_version"] = f"The prompt version is {PROMPT_VERSION} (the only one)."
    if kind not in Rater.Kind.values:
        fields["kind"] = f"Choose one of {', '.join(Rater.Kind.values)}."
    if not name.strip() or len(name) > 100:
        fields["name"] = "Give the rater a name of at most 100 characters."
    if kind == Rater.Kind.OPENAI:
        url = urlparse(base_url)
        if url.scheme not in ("http", "https") or not url.netloc or len(base_url) > 500:
            fields["base_url"] = "Give the endpoint's base URL, http(s)://host[:port]/v1."
        elif "@" in url.netloc or url.query or url.fragment:
            # The base URL is shown on the page, in the API and in every run's stored
            # configuration: a key in it would be shown back. It goes in the key field.
            fields["base_url"] = (
                "Give the base URL without a user, password or query; the key goes in the "
                "key field, where it is stored encrypted."
            )
        if not model.strip() or len(model) > 200:
            fields["model"] = "Name the endpoint's model."
    if not 0.0 <= temperature <= 2.0:
        fields["temperature"] = "The temperature is between 0 and 2."
    if not 1 <= runs_per_start <= MAX_RUNS_PER_START:
        fields["runs_per_start"] = f"k is between 1 and {MAX_RUNS_PER_START}."
    return fields


# What an Authorization header can carry: printable ASCII without spaces. Another key
# could not be sent (a non-Latin-1 character fails the request before it leaves, a line
# break would add a header), so every item of every run would fail.
KEY_CHARACTERS = re.compile(r"[!-~]+")


@sensitive_variables("api_key")
def _check_key(api_key: str) -> dict:
    """{"api_key": problem} for a key no HTTP header can carry (never quoting it)."""
    if api_key and not KEY_CHARACTERS.fullmatch(api_key):
        return {
            "api_key": "The key can hold printable ASCII characters only, with no spaces or "
            "line breaks; paste it again."
        }
    return {}


class InvalidRater(ServiceError):
    def __init__(self, fields: dict):
        super().__init__("The rater's settings are not valid: " + " ".join(fields.values()))
        self.fields = fields


@sensitive_variables("api_key")
def add_rater(
    *,
    project: Project,
    user,
    kind: str,
    name: str,
    model: str = "",
    base_url: str = "",
    api_key: str = "",
    prompt_version: str = "v1",
    temperature: float = 0.0,
    seed: int | None = None,
    runs_per_start: int = 1,
    visible_in_adjudication: bool = False,
) -> Rater:
    """Add a machine rater to `project`. InvalidRater names each bad field; Conflict when
    the project has a rater of that name. The key is stored sealed and never shown back."""
    prompt_version = prompt_version or PROMPT_VERSION
    fields = _check_config(
        kind=kind,
        name=name,
        model=model,
        base_url=base_url,
        temperature=temperature,
        runs_per_start=runs_per_start,
        prompt_version=prompt_version,
    ) | _check_key(api_key)
    if fields:
        raise InvalidRater(fields)
    rater = Rater(
        project=project,
        kind=kind,
        name=name.strip(),
        model=model.strip(),
        base_url=base_url.strip().rstrip("/"),
        prompt_version=prompt_version,
        temperature=temperature,
        seed=seed,
        runs_per_start=runs_per_start,
        visible_in_adjudication=visible_in_adjudication,
        created_by=user,
    )
    rater.set_api_key(api_key)
    try:
        with transaction.atomic():
            rater.save()
            _audit(rater, user, "rater_added", settings=_public(rater), key=_key_state(rater))
    except IntegrityError:
        raise Conflict(f"This project already has a rater named '{name.strip()}'.") from None
    return rater


# What a rater's settings are in the audit trail: every field a lead can set, never the
# key (only whether one is stored, and whether a change replaced or removed it).
AUDITED = (
    "name",
    "model",
    "base_url",
    "prompt_version",
    "temperature",
    "seed",
    "runs_per_start",
    "visible_in_adjudication",
)


def _public(rater: Rater) -> dict:
    return {"kind": rater.kind, **{name: getattr(rater, name) for name in AUDITED}}


def _key_state(rater: Rater) -> str:
    return "stored" if rater.has_api_key else "none"


def _audit(rater: Rater, user, kind: str, **payload) -> None:
    AuditEvent.objects.create(
        project_id=rater.project_id,
        actor=user if getattr(user, "is_authenticated", False) else None,
        kind=kind,
        payload={"rater": rater.pk, **payload},
    )


@sensitive_variables("api_key")
def change_rater(*, rater: Rater, user, api_key: str = "", clear_api_key: bool = False, **new):
    """Change a rater's settings (`new`: any of AUDITED; its kind stays) and, when given, its
    key: `api_key` replaces the stored key, `clear_api_key` removes it; a blank key keeps
    it. InvalidRater names each bad field, Conflict a name another rater has. The change is
    written to the audit trail (from and to per field; the key only as replaced or
    removed); a change that changes nothing writes nothing. Runs already started keep the
    configuration they stored."""
    unknown = set(new) - set(AUDITED)
    if unknown:
        raise InvalidRater({name: "This setting cannot be changed." for name in sorted(unknown)})
    with transaction.atomic():
        locked = Rater.objects.select_for_update().get(pk=rater.pk)
        wanted = {name: new.get(name, getattr(locked, name)) for name in AUDITED}
        wanted["name"] = wanted["name"].strip()
        wanted["model"] = wanted["model"].strip()
        wanted["base_url"] = wanted["base_url"].strip().rstrip("/")
        wanted["prompt_version"] = wanted["prompt_version"] or PROMPT_VERSION
        checked = ("name", "model", "base_url", "temperature", "runs_per_start", "prompt_version")
        fields = _check_config(kind=locked.kind, **{k: wanted[k] for k in checked})
        fields |= _check_key(api_key)
        if fields:
            raise InvalidRater(fields)
        changes = {
            name: {"from": getattr(locked, name), "to": value}
            for name, value in wanted.items()
            if getattr(locked, name) != value
        }
        key_change = ""
        if api_key:
            key_change = "replaced"
            locked.set_api_key(api_key)
        elif clear_api_key and locked.has_api_key:
            key_change = "removed"
            locked.set_api_key("")
        if not changes and not key_change:
            return locked
        for name, value in wanted.items():
            setattr(locked, name, value)
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise Conflict(f"This project already has a rater named '{wanted['name']}'.") from None
        payload = {"name": locked.name, "changes": changes}
        if key_change:
            payload["key"] = key_change
        _audit(locked, user, "rater_changed", **payload)
    return locked


def remove_rater(*, rater: Rater, user) -> None:
    """Remove a rater with its runs and labels, recording it (its settings and how many runs
    went with it) in the audit trail. RaterBusy while one of its runs is active."""
    with transaction.atomic():
        locked = Rater.objects.select_for_update().get(pk=rater.pk)
        if locked.runs.filter(status__in=RaterRun.ACTIVE).exists():
            raise RaterBusy("This rater has a run queued or running; wait for it to finish.")
        _audit(
            locked,
            user,
            "rater_removed",
            settings=_public(locked),
            key=_key_state(locked),
            runs=locked.runs.count(),
        )
        locked.delete()


def start_rater_runs(*, rater: Rater, user) -> list[RaterRun]:
    """Queue the rater's next k runs (one for the built-in rater, which is deterministic),
    each a Celery job enqueued on commit. RaterBusy while one of its runs is active."""
    # Only runs whose worker died: a queued run (one of k waiting its turn, or a long run
    # queued again at its task's time limit) has a message on its way.
    expire_dead_runs(project=rater.project)
    count = 1 if rater.kind == Rater.Kind.BUILTIN else rater.runs_per_start
    with transaction.atomic():
        locked = Rater.objects.select_for_update().get(pk=rater.pk)
        if locked.runs.filter(status__in=RaterRun.ACTIVE).exists():
            raise RaterBusy("This rater has a run queued or running; wait for it to finish.")
        last = locked.runs.aggregate(last=Max("number"))["last"] or 0
        project = locked.project
        total = project_items(project).exclude(state=Item.State.EXCLUDED).count()
        runs = [
            RaterRun.objects.create(
                rater=locked,
                number=last + offset,
                codebook_version=project.codebook_version,
                config=locked.config(),
                items_total=total,
                created_by=user,
            )
            for offset in range(1, count + 1)
        ]
        from annotate.raters.tasks import run_rater_task

        for run in runs:
            run_rater_task.delay_on_commit(run_id=run.pk)
    return runs


def resume_rater_run(*, run: RaterRun) -> RaterRun:
    """Queue a failed run again: it goes on from the items it has not done."""
    with transaction.atomic():
        if not RaterRun.objects.filter(pk=run.pk, status=RaterRun.Status.FAILED).update(
            status=RaterRun.Status.QUEUED, error=""
        ):
            raise Conflict("Only a failed run can be resumed.")
        from annotate.raters.tasks import run_rater_task

        run_rater_task.delay_on_commit(run_id=run.pk)
    run.refresh_from_db()
    return run


def expire_dead_runs(*, project: Project) -> int:
    """Fail the project's runs still "running" past STALE_AFTER (their worker died: the
    task's hard limit is shorter), so the raters page offers to resume them. Queued runs
    are left alone: a long queue of k runs is not a dead worker."""
    cutoff = timezone.now() - STALE_AFTER
    return (
        project_rater_runs(project)
        .filter(status=RaterRun.Status.RUNNING, started_at__lt=cutoff)
        .update(
            status=RaterRun.Status.FAILED,
            finished_at=timezone.now(),
            error="No worker finished this run in time; resume it to go on.",
        )
    )


def claim_rater_run(*, run_id: int) -> bool:
    """Take a queued run, or one whose worker died, with a conditional update; False
    otherwise (a redelivered message does nothing)."""
    now = timezone.now()
    claimable = Q(status=RaterRun.Status.QUEUED) | Q(
        status=RaterRun.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return bool(
        RaterRun.objects.filter(claimable, pk=run_id).update(
            status=RaterRun.Status.RUNNING, started_at=now
        )
    )


def items_to_rate(run: RaterRun):
    """The project's items the run has not done yet, in sample order."""
    done = RaterItem.objects.filter(run=run).values("item_id")
    items = project_items(run.rater.project).exclude(state=Item.State.EXCLUDED)
    return items.exclude(pk__in=done).order_by("position", "pk")


def note_progress(run: RaterRun, **counts) -> None:
    """Add `counts` (items_done, labels_written, invalid_answers...) to the run's row, in
    the run's own short transaction, so pages see the progress at once."""
    RaterRun.objects.filter(pk=run.pk).update(
        **{name: F(name) + value for name, value in counts.items() if value}
    )


def run_rater(*, run_id: int) -> RaterRun:
    """Run a claimed run to its end with the rater's kind and record the outcome. A
    RunFailed is the run's error; any other exception fails the run with a generic message
    and is re-raised for the worker's log. Items done before a failure stay done."""
    from annotate.raters import builtin, llm_run

    run = RaterRun.objects.select_related("rater__project").get(pk=run_id)
    started = time.monotonic()
    outcome = {"status": RaterRun.Status.FAILED}
    try:
        if run.rater.kind == Rater.Kind.BUILTIN:
            builtin.rate(run)
        else:
            llm_run.rate(run)
    except RunFailed as error:
        outcome["error"] = str(error)
    except SoftTimeLimitExceeded:
        # The task's time is up, not the run: queue it again to go on from the items it
        # has not done (a long LLM run takes several task lifetimes).
        outcome["status"] = RaterRun.Status.QUEUED
    except Exception:
        outcome["error"] = "The run failed unexpectedly (see the worker's log); resume it."
        raise
    else:
        outcome["status"] = RaterRun.Status.SUCCEEDED
    finally:
        RaterRun.objects.filter(pk=run.pk).update(
            finished_at=None if outcome["status"] == RaterRun.Status.QUEUED else timezone.now(),
            seconds=F("seconds") + (time.monotonic() - started),
            **outcome,
        )
    if outcome["status"] == RaterRun.Status.QUEUED:
        # Enqueued once the run is queued again, so that the next delivery can claim it.
        from annotate.raters.tasks import run_rater_task

        transaction.on_commit(lambda: run_rater_task.delay(run_id=run.pk))
    run.refresh_from_db()
    return run


def latest_runs(project: Project) -> dict[int, RaterRun]:
    """Each rater's latest finished run, by rater id."""
    return latest_finished_runs(project_rater_runs(project))
