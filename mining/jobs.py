"""Repositories and jobs: adding a repository to a project, and a mining job's life
(start, dispatch, claim, run, finish, cancel, restart, recover, progress).

A job holds one task per repository (one for a list of issue links); each task runs in a
Celery worker (mining.tasks) or, for the `mine` command and the demo, in this process
(run_job_sync). Claims are conditional updates, so a redelivered or re-queued task runs
once, and a crawl resumes from its watermarks.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.access import all_repository_views
from annotate.models import AuditEvent, Project, Unreadable

from . import client as gh
from .crawl import (
    JobCancelled,
    MustWait,
    Tracker,
    crawl_repository,
    make_client,
    mine_issue_links,
    reconcile_repository,
)
from .fixes import sync_fix_links
from .models import (
    MiningJob,
    MiningTask,
    ProjectRepository,
    Repository,
    default_source,
    source_of,
)
from .progress import eta_seconds, parse_full_name, parse_issue_link
from .storage import refresh_issue_search

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)  # a running task without a heartbeat this long is orphaned
MAX_GROUP = 100  # ProjectRepository.group
ACTIVE = (MiningJob.Status.QUEUED, MiningJob.Status.RUNNING, MiningJob.Status.WAITING)


class MiningError(Exception):
    """A problem the caller must fix (bad input, bad token, unknown repository)."""


# ----- the token -------------------------------------------------------------------------
NO_TOKEN = (
    "This project has no GitHub token of its own and may not use the server's: the owner "
    "sets one in the project's settings, or staff allow the server's token for it."
)


def job_token(*, project: Project | None, started_by_user: bool) -> str:
    """The GitHub token a job mines with: the project's own when set; else the server's
    GITHUB_TOKEN when staff allow it for the project, or for jobs no user started (the
    `mine` command and the reconcile, run by the server's admins). Otherwise MiningError."""
    if project is not None:
        try:
            own = project.github_token()
        except Unreadable:
            raise MiningError(
                "The project's GitHub token cannot be decrypted (the encryption key "
                "changed): the owner must enter it again."
            ) from None
        if own:
            return own
        if started_by_user and not project.may_use_server_token:
            raise MiningError(NO_TOKEN)
    return settings.GITHUB_TOKEN


# ----- repositories and jobs ---------------------------------------------------------------
@transaction.atomic
def add_repository(
    *,
    project: Project,
    full_name: str,
    group: str = "",
    metadata: dict | None = None,
    source: str = "",
    user=None,
) -> Repository:
    """Have `project` mine OWNER/NAME of `source` (default: the configured API's), creating
    the shared repository once for every project. The group and metadata are the
    project's own: a given one replaces what this project said before, and no other
    project's. Idempotent. Returns the (shared) repository."""
    try:
        owner, name = parse_full_name(full_name)
    except ValueError as error:
        raise MiningError(str(error)) from None
    source = source or default_source()
    same_name = Repository.objects.filter(source=source, owner__iexact=owner, name__iexact=name)
    repository = same_name.first()
    if repository is None:
        try:
            with transaction.atomic():
                repository = Repository.objects.create(source=source, owner=owner, name=name)
        except IntegrityError:  # another project added it concurrently: share that row
            repository = same_name.get()
    view, created = ProjectRepository.objects.select_for_update().get_or_create(
        project=project,
        repository=repository,
        defaults={
            "group": group,
            "metadata": metadata or {},
            "mined": True,
            "added_by": user if getattr(user, "is_authenticated", False) else None,
        },
    )
    if not created:
        view.group = group or view.group
        view.metadata = metadata if metadata is not None else view.metadata
        view.mined = True
        view.save(update_fields=["group", "metadata", "mined"])
    return repository


@transaction.atomic
def set_repository_group(*, view: ProjectRepository, group: str, user=None) -> bool:
    """Set the project's own group of one repository (RQ4 reads it; no other project's
    changes) and record it in the audit trail. Spaces are collapsed; an empty group takes
    the repository out of every group. Returns whether it changed (no change, no event)."""
    group = " ".join(group.split())
    if len(group) > MAX_GROUP:
        raise MiningError(f"A group name is at most {MAX_GROUP} characters.")
    locked = ProjectRepository.objects.select_for_update().filter(pk=view.pk).first()
    if locked is None or locked.group == group:
        return False
    before = locked.group
    ProjectRepository.objects.filter(pk=view.pk).update(group=group)
    view.group = group
    AuditEvent.objects.create(
        project_id=view.project_id,
        actor=user if getattr(user, "is_authenticated", False) else None,
        kind="repository_group",
        payload={"repository": view.repository.full_name, "from": before, "to": group},
    )
    return True


@transaction.atomic
def start_mining_job(
    *,
    project: Project | None,
    repositories=(),
    links=(),
    kind: str = MiningJob.Kind.CRAWL,
    user=None,
    api_url: str = "",
    source: str = "",
    dispatch: bool = True,
    fixes: bool = False,
) -> MiningJob:
    """Create a job and its tasks (one per repository; one for a list of issue links) and,
    with `dispatch`, enqueue one Celery task each once the transaction commits. The job's
    data belongs to `source` (default: the API host's); every repository must too. With
    `fixes`, a crawl also fetches its issues' fix links (GraphQL; mining/fixes.py)."""
    repositories = list(repositories)
    api_url = api_url or settings.GITHUB_API_URL
    source = source or source_of(api_url)
    strangers = sorted(r.full_name for r in repositories if r.source != source)
    if strangers:
        raise MiningError(
            f"{', '.join(strangers)} not of {source} (the API this job talks to): "
            "add the repository for this source first."
        )
    links = [link.strip() for link in links if link.strip()]
    started_by_user = user is not None and user.is_authenticated
    job_token(project=project, started_by_user=started_by_user)  # refuses without a token
    if kind == MiningJob.Kind.SINGLE:
        if not links:
            raise MiningError("Give at least one issue link.")
        for link in links:
            try:
                parse_issue_link(link)
            except ValueError as error:
                raise MiningError(str(error)) from None
    elif not repositories:
        raise MiningError("Choose at least one repository.")
    job = MiningJob.objects.create(
        project=project,
        kind=kind,
        filters={"links": links} if links else ({"fixes": True} if fixes else {}),
        api_url=api_url,
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    if kind == MiningJob.Kind.SINGLE:
        tasks = [MiningTask.objects.create(job=job)]
    else:
        job.repositories.set(repositories)
        tasks = MiningTask.objects.bulk_create(
            [MiningTask(job=job, repository=r) for r in repositories]
        )
    if dispatch:
        _dispatch([task.pk for task in tasks])
    return job


def _dispatch(task_ids: list[int]) -> None:
    from .tasks import run_mining_task

    for task_id in task_ids:
        run_mining_task.delay_on_commit(task_id=task_id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_task(*, task_id: int, worker: str, redelivered: bool = False) -> bool:
    """Claim a task by a conditional update: queued or waiting, or running but orphaned
    (its message redelivered, or no heartbeat for STALE_AFTER). False when another
    worker holds it or it is finished (the caller then does nothing)."""
    now = timezone.now()
    claimable = Q(status__in=[MiningJob.Status.QUEUED, MiningJob.Status.WAITING])
    claimable |= Q(status=MiningJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
    if redelivered:
        claimable |= Q(status=MiningJob.Status.RUNNING)
    claimed = MiningTask.objects.filter(claimable, pk=task_id).update(
        status=MiningJob.Status.RUNNING,
        worker=worker[:200],
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        started_at=Coalesce("started_at", now),
    )
    if claimed:
        MiningJob.objects.filter(tasks__pk=task_id, status__in=ACTIVE).update(
            status=MiningJob.Status.RUNNING, started_at=Coalesce("started_at", now)
        )
    return bool(claimed)


def run_task(*, task_id: int, client=None, on_page=None) -> None:
    """Run a claimed task to its end: done, cancelled or failed (recorded on the task and
    job). Raises MustWait (task left waiting) when the rate limit needs a long wait."""
    task = MiningTask.objects.select_related("job", "repository").get(pk=task_id)
    job = task.job
    own_client = client is None
    token, refusal = "", None
    if own_client:
        try:
            project = job.project
            token = job_token(project=project, started_by_user=job.created_by_id is not None)
        except MiningError as error:  # e.g. staff withdrew the server's token since
            refusal = error
    client = client or make_client(api_url=job.api_url, token=token)
    tracker = Tracker(client=client, job_id=job.pk, task_id=task.pk, on_page=on_page)
    tracker.counted = client.requests
    status, error = MiningJob.Status.DONE, ""
    try:
        if refusal is not None:
            raise refusal
        tracker.check_cancelled()
        if task.repository is not None and task.repository.source != job.source:
            raise MiningError(
                f"{task.repository.full_name} belongs to {task.repository.source}, "
                f"not to {job.source} (the API this job talks to)."
            )
        if job.kind == MiningJob.Kind.SINGLE:
            links = job.filters.get("links", [])
            mine_issue_links(
                links=links,
                client=client,
                tracker=tracker,
                source=job.source,
                project_id=job.project_id,
            )
        elif job.kind == MiningJob.Kind.RECONCILE:
            reconcile_repository(repository=task.repository, client=client, tracker=tracker)
        else:
            crawl_repository(repository=task.repository, client=client, tracker=tracker)
            if job.filters.get("fixes"):
                sync_fix_links(repository=task.repository, client=client, tracker=tracker)
    except JobCancelled:
        status = MiningJob.Status.CANCELLED
    except MustWait as wait:
        _finish_task(task, tracker, MiningJob.Status.WAITING, str(wait), wait.seconds)
        raise
    except (gh.GitHubError, MiningError) as failure:
        status, error = MiningJob.Status.FAILED, describe_error(failure, task, client)
    finally:
        if own_client:
            client.close()
        refresh_issue_search()  # what this task stored, searchable (also after a failure)
    if status == MiningJob.Status.DONE and task.repository is not None and job.project_id:
        all_repository_views(job.project_id).filter(repository=task.repository).update(
            last_synced_at=timezone.now(), fetched_at=timezone.now()
        )
    _finish_task(task, tracker, status, error)


def describe_error(error: Exception, task: MiningTask, client) -> str:
    """A clear, token-free message for an error that stopped a task."""
    where = task.repository.full_name if task.repository else "the issue list"
    if isinstance(error, gh.BadCredentials):
        text = (
            "GitHub rejected the token (401 Bad credentials): set a valid one (the project's "
            "own in its settings, or the server's GITHUB_TOKEN)."
        )
    elif isinstance(error, gh.NotFound):
        text = f"Repository {where} was not found at {client.base_url} (404)."
    elif isinstance(error, gh.Unreachable):
        text = f"Cannot reach the GitHub API at {client.base_url}."
    else:
        text = f"{where}: {error}"
    return client.scrub(text)


def _finish_task(task, tracker, status, error="", wait=None) -> None:
    with transaction.atomic():
        tracker.record()
        changes = {"status": status, "error": error, "heartbeat_at": timezone.now()}
        if wait is not None:
            changes["not_before"] = timezone.now() + timedelta(seconds=wait)
        else:
            changes["finished_at"] = timezone.now()
        if status == MiningJob.Status.DONE:
            changes.update(phase=2, progress=1.0)
        MiningTask.objects.filter(pk=task.pk).update(**changes)
        if error and status == MiningJob.Status.FAILED:
            job = MiningJob.objects.select_for_update().get(pk=task.job_id)
            job.errors = [*job.errors, error][-50:]
            job.save(update_fields=["errors"])
    finish_job_if_done(job_id=task.job_id)


def finish_job_if_done(*, job_id: int) -> MiningJob:
    """Set the job's status from its tasks' (done, failed, cancelled or waiting)."""
    with transaction.atomic():
        job = MiningJob.objects.select_for_update().get(pk=job_id)
        statuses = set(job.tasks.values_list("status", flat=True))
        if MiningJob.Status.RUNNING in statuses or MiningJob.Status.QUEUED in statuses:
            return job
        if MiningJob.Status.WAITING in statuses:
            job.status = MiningJob.Status.WAITING
        elif MiningJob.Status.FAILED in statuses:
            job.status = MiningJob.Status.FAILED
        elif MiningJob.Status.CANCELLED in statuses or job.cancel_requested:
            job.status = MiningJob.Status.CANCELLED
        else:
            job.status = MiningJob.Status.DONE
        if job.status != MiningJob.Status.WAITING:
            job.finished_at = job.finished_at or timezone.now()
        job.save(update_fields=["status", "finished_at"])
        return job


@transaction.atomic
def cancel_mining_job(*, job: MiningJob) -> MiningJob:
    """Ask a job to stop: queued and waiting tasks stop now, running ones after their
    current page (leaving consistent data). Idempotent."""
    MiningJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.tasks.filter(status__in=[MiningJob.Status.QUEUED, MiningJob.Status.WAITING]).update(
        status=MiningJob.Status.CANCELLED, finished_at=timezone.now()
    )
    return finish_job_if_done(job_id=job.pk)


@transaction.atomic
def restart_mining_job(*, job: MiningJob, user=None) -> MiningJob:
    """Run a finished, failed or cancelled job again (every crawl resumes from its
    watermarks, so this only fetches what is missing). A running job is left alone.
    Restarted by `user`, it needs a token the project may use (MiningError otherwise)."""
    if job.status in ACTIVE:
        return job
    if user is not None:
        job_token(project=job.project, started_by_user=True)
    tasks = list(job.tasks.values_list("pk", flat=True))
    job.tasks.update(status=MiningJob.Status.QUEUED, error="", finished_at=None, phase=0)
    MiningJob.objects.filter(pk=job.pk).update(
        status=MiningJob.Status.QUEUED, cancel_requested=False, finished_at=None
    )
    _dispatch(tasks)
    job.refresh_from_db()
    return job


def recover_orphaned_tasks(*, worker_prefix: str = "", stale_after=STALE_AFTER) -> list[int]:
    """Re-queue tasks whose worker died: running tasks claimed by a worker whose name
    starts with `worker_prefix` (a restarted node's own), or silent for `stale_after`;
    and waiting tasks whose countdown passed long ago. Returns the re-queued task ids."""
    now = timezone.now()
    orphaned = Q(status=MiningJob.Status.RUNNING, heartbeat_at__lt=now - stale_after)
    if worker_prefix:
        orphaned |= Q(status=MiningJob.Status.RUNNING, worker__startswith=worker_prefix)
    orphaned |= Q(status=MiningJob.Status.WAITING, not_before__lt=now - stale_after)
    with transaction.atomic():
        ids = list(MiningTask.objects.filter(orphaned).values_list("pk", flat=True))
        MiningTask.objects.filter(pk__in=ids).update(status=MiningJob.Status.QUEUED)
        _dispatch(ids)
    return ids


def run_job_sync(*, job: MiningJob, client=None, on_page=None, sleep=time.sleep) -> MiningJob:
    """Run every task of `job` here, in this process (the `mine` command, the demo),
    sleeping through rate-limit waits. Returns the finished job."""
    for task_id in job.tasks.order_by("pk").values_list("pk", flat=True):
        while claim_task(task_id=task_id, worker=f"sync:{worker_name()}"):
            try:
                run_task(task_id=task_id, client=client, on_page=on_page)
            except MustWait as wait:
                logger.info("mining job %s: %s", job.pk, wait)
                sleep(wait.seconds)
    return finish_job_if_done(job_id=job.pk)


def job_progress(job: MiningJob) -> dict:
    """The job's completion (0..1, an estimate while crawling: lists carry no totals) and
    the estimated seconds left."""
    tasks = list(job.tasks.values_list("status", "progress"))
    if not tasks:
        return {"fraction": 0.0, "eta_seconds": None, "percent": 0}
    finished = (MiningJob.Status.DONE, MiningJob.Status.FAILED, MiningJob.Status.CANCELLED)
    fraction = sum(1.0 if s in finished else p for s, p in tasks) / len(tasks)
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    eta = None if job.status not in ACTIVE else eta_seconds(fraction, elapsed)
    return {"fraction": fraction, "eta_seconds": eta, "percent": round(fraction * 100)}
