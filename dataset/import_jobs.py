"""Import jobs: an upload is saved where the worker can read it, a Celery worker imports it
(dataset.importing, all or nothing) and records the outcome; the files are deleted when
the job ends. Progress goes through the cache, since the import's own transaction hides
its writes until it commits."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from annotate.access import project_import_jobs
from annotate.errors import ServiceError
from annotate.models import ImportJob, Project
from dataset.formats import FORMATS, MAX_FILE_BYTES, too_big_message
from dataset.groups import GroupRuleError, make_rule, stored_map
from dataset.importing import (
    ImportFailed,
    Source,
    _annotator,
    group_rule,
    import_dataset,
    parse_labels_option,
)

# A job still "running" this long after it started lost its worker (the task's time limit
# is 30 minutes): a redelivered message may take it over; its transaction wrote nothing.
STALE_AFTER = timedelta(minutes=31)
# How often the worker writes progress to the cache (a fraction of the whole job).
PROGRESS_STEP = 0.01


class ImportBusy(ServiceError):
    """Another import of the project is queued or running; nothing was started."""


def start_import_job(
    *,
    project: Project,
    user,
    files,
    fmt: str,
    labels: str,
    add_categories: bool = False,
    group: str = "",
    group_map: str = "",
) -> ImportJob:
    """Check what can be checked at once (format, sizes, --labels and its annotator, the
    group rule and map: dataset.groups), save
    the uploaded files under IMPORT_UPLOAD_DIR and queue a job, enqueued on commit.

    Raises ImportFailed for bad input and ImportBusy while another import of the project is
    queued or running (one job per project; duplicates sent at once start one)."""
    if fmt not in FORMATS:
        raise ImportFailed(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    for upload in files:
        if upload.size > MAX_FILE_BYTES:
            raise ImportFailed(f"{upload.name}: {too_big_message(upload.size)}.")
    mode, username = parse_labels_option(labels)
    if mode == "annotator":
        _annotator(project, username)
    rule = group_rule(group, group_map)
    expire_stale_jobs(project=project)
    folder = Path(settings.IMPORT_UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    stored = []
    try:
        for number, upload in enumerate(files):
            path = folder / f"{number:04}"
            with open(path, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            stored.append({"name": upload.name, "path": str(path), "size": upload.size})
        with transaction.atomic():
            job = ImportJob.objects.create(
                project=project,
                created_by=user,
                format=fmt,
                labels=labels,
                add_categories=add_categories,
                group=rule.text,
                group_map=stored_map(rule),
                files=stored,
            )
            from dataset.tasks import run_import_task

            run_import_task.delay_on_commit(job_id=job.pk)
    except IntegrityError:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportBusy(
            "Another import of this project is queued or running; wait for it to finish."
        ) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job


def expire_stale_jobs(*, project: Project) -> int:
    """Fail the project's jobs no worker took, or whose worker died, STALE_AFTER ago (a
    lost broker message would otherwise block the project's imports for good); their files
    are deleted. Their import wrote nothing (one transaction)."""
    cutoff = timezone.now() - STALE_AFTER
    stale = project_import_jobs(project).filter(
        Q(status=ImportJob.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=ImportJob.Status.RUNNING, started_at__lt=cutoff)
    )
    expired = 0
    for job in stale:
        expired += ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            error="Nothing imported: no worker finished this job within "
            f"{STALE_AFTER.seconds // 60} minutes; start the import again.",
        )
        _remove_files(job)
    return expired


def claim_import_job(*, job_id: int) -> bool:
    """Take a queued job, or one whose worker died (running past STALE_AFTER), with a
    conditional update: False otherwise, so a redelivered message does not run a job twice."""
    now = timezone.now()
    claimable = Q(status=ImportJob.Status.QUEUED) | Q(
        status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_AFTER
    )
    return bool(
        ImportJob.objects.filter(claimable, pk=job_id).update(
            status=ImportJob.Status.RUNNING, started_at=now
        )
    )


def progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:progress"


def job_progress(job: ImportJob) -> float:
    """The job's progress, 0..1: the worker's latest report while it runs."""
    if job.status == ImportJob.Status.RUNNING:
        return float(cache.get(progress_key(job.pk), job.progress))
    return 1.0 if job.done else 0.0


def run_import_job(*, job_id: int) -> ImportJob:
    """Run a claimed job: import its files (all or nothing), record the outcome, delete the
    files. An ImportFailed is the job's error (nothing was written); any other exception
    marks the job failed with a generic message and is re-raised for the worker's log."""
    job = ImportJob.objects.select_related("project", "created_by").get(pk=job_id)
    last = [0.0]

    def report(fraction: float) -> None:
        if fraction - last[0] >= PROGRESS_STEP or fraction >= 1.0:
            last[0] = fraction
            cache.set(progress_key(job.pk), fraction, timeout=60 * 60)

    sources = [Source(name=f["name"], path=Path(f["path"])) for f in job.files]
    outcome: dict = {"status": ImportJob.Status.FAILED, "progress": 0.0}
    try:
        result = import_dataset(
            project=job.project,
            sources=sources,
            fmt=job.format,
            labels=job.labels,
            add_categories=job.add_categories,
            group=job.group or None,
            group_map=job.group_map,
            user=job.created_by,
            progress=report,
        )
    except ImportFailed as error:
        outcome["error"] = f"Nothing imported. {error}"
    except Exception:
        outcome["error"] = (
            "Nothing imported: the import failed unexpectedly (see the worker's log)."
        )
        raise
    else:
        outcome.update(
            status=ImportJob.Status.SUCCEEDED,
            progress=1.0,
            result={**result.__dict__, "changed": result.changed, "summary": result.summary()},
        )
    finally:
        ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now(), **outcome)
        cache.delete(progress_key(job.pk))
        _remove_files(job)
    job.refresh_from_db()
    return job


def describe_groups(job: ImportJob) -> str:
    """The job's group rule in words ("by owner; mapped: ...")."""
    try:
        return make_rule(job.group, job.group_map).describe()
    except GroupRuleError:  # stored before the rule was checked
        return job.group


def _remove_files(job: ImportJob) -> None:
    folders = {Path(f["path"]).parent for f in job.files}
    for folder in folders:
        # Only ever a folder this module made under IMPORT_UPLOAD_DIR.
        if folder.parent == Path(settings.IMPORT_UPLOAD_DIR):
            shutil.rmtree(folder, ignore_errors=True)
