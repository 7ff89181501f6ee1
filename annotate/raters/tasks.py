"""Celery tasks of the machine raters: thin wrappers that claim a run and call the service."""

from celery import shared_task

from annotate.raters import runs


@shared_task(acks_late=True, time_limit=60 * 30, soft_time_limit=60 * 29)
def run_rater_task(*, run_id: int) -> None:
    """Run one rater run. Idempotent: the run is claimed by a conditional update (queued ->
    running), so a redelivered message finds it taken and does nothing; items the run
    already rated are skipped (one RaterItem per run and item)."""
    if not runs.claim_rater_run(run_id=run_id):
        return
    runs.run_rater(run_id=run_id)
