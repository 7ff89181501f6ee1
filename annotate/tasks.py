"""annotate's Celery tasks, for the worker's autodiscovery (which reads `<app>.tasks`): each
concern keeps its tasks in its own package."""

from annotate.raters.tasks import run_rater_task  # noqa: F401
