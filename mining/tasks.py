"""Celery tasks of the miner: thin wrappers that claim work and call mining.jobs."""

from celery import shared_task
from celery.signals import worker_ready
from django.db import transaction

from config.celery import app

from . import jobs
from .crawl import MustWait
from .models import MiningJob, Repository, default_source

RECONCILE_EVERY = 60 * 60 * 24


@shared_task(bind=True, acks_late=True, time_limit=60 * 30, soft_time_limit=60 * 29)
def run_mining_task(self, *, task_id: int) -> None:
    """Run one repository's share of a mining job (or a job's issue list).

    Idempotent: claims the task by a conditional update (a redelivered message may take
    over a task its dead worker left running), and the crawl resumes from watermarks.
    A long rate-limit wait re-queues this task with a countdown instead of sleeping."""
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    worker = f"{self.request.hostname or 'worker'}:{jobs.worker_name()}"
    if not jobs.claim_task(task_id=task_id, worker=worker, redelivered=redelivered):
        return
    try:
        jobs.run_task(task_id=task_id)
    except MustWait as wait:
        run_mining_task.apply_async(kwargs={"task_id": task_id}, countdown=wait.seconds)


@shared_task(acks_late=True, time_limit=60 * 5)
def reconcile_repositories() -> int:
    """Start one reconcile job over every repository of the configured API mined so far
    (the beat schedule's entry); another source's (the demo's, an emulator's) is not the
    configured API's to check. Returns the job id, or 0 when there is nothing to reconcile."""
    mined = Repository.objects.filter(last_synced_at__isnull=False, source=default_source())
    repositories = list(mined)
    if not repositories:
        return 0
    with transaction.atomic():
        job = jobs.start_mining_job(
            project=None, repositories=repositories, kind=MiningJob.Kind.RECONCILE
        )
    return job.pk


@shared_task(acks_late=True, time_limit=60 * 5)
def recover_orphaned_tasks() -> int:
    """Re-queue tasks left running by dead workers (the beat schedule's safety net)."""
    return len(jobs.recover_orphaned_tasks())


app.conf.beat_schedule.update(
    {
        "mining-reconcile": {
            "task": "mining.tasks.reconcile_repositories",
            "schedule": RECONCILE_EVERY,
        },
        "mining-recover-orphans": {
            "task": "mining.tasks.recover_orphaned_tasks",
            "schedule": 60 * 10,
        },
    }
)


@worker_ready.connect
def requeue_own_orphans(sender=None, **kwargs) -> None:
    """A restarted worker re-queues the tasks its previous life held (killed mid-task, the
    messages it had not acknowledged would otherwise wait for the broker's timeout)."""
    hostname = getattr(sender, "hostname", "") or ""
    if hostname:
        jobs.recover_orphaned_tasks(worker_prefix=f"{hostname}:")
