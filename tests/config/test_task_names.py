"""Restructure (issue #14) promised no change of behaviour: Celery task names are the
wire contract between web processes, queued messages and workers, so a module move must
not rename them (a message queued by the old code would find no task on a new worker)."""

from dataset.tasks import run_import_task
from mining.tasks import reconcile_repositories, run_mining_task


def test_import_task_keeps_its_name():
    assert run_import_task.name == "annotate.tasks.run_import_task"


def test_mining_task_names_unchanged():
    assert run_mining_task.name == "mining.tasks.run_mining_task"
    assert reconcile_repositories.name == "mining.tasks.reconcile_repositories"
