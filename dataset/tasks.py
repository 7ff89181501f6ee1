"""Celery tasks of the dataset app: thin wrappers that claim work and call the services."""

from celery import shared_task

from dataset import import_jobs


@shared_task(
    name="annotate.tasks.run_import_task",  # the name queued messages carry (kept since the move)
    acks_late=True,
    time_limit=60 * 30,
    soft_time_limit=60 * 29,
)
def run_import_task(*, job_id: int) -> None:
    """Run one import job. Idempotent: the job is claimed by a conditional update
    (queued -> running), so a redelivered message finds it taken and does nothing; the
    import itself is all or nothing in one transaction."""
    if not import_jobs.claim_import_job(job_id=job_id):
        return
    import_jobs.run_import_job(job_id=job_id)
