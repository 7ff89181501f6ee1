"""Each pytest-xdist worker gets its own Redis database and media folder.

Loaded with `-p tests.worker_env` (pyproject's addopts) so that it runs before
pytest-django imports the settings, which read REDIS_URL and MEDIA_ROOT once. The
workers already get their own PostgreSQL test database from pytest-django
(`test_<name>_gw0`, ...); without this they would share the cache (a `cache.clear()` in
one worker empties the other's throttles and hints) and the Celery broker (a worker
started by one test could take another worker's task and run it on the wrong database).

Worker gwN uses Redis database base + 1 + N, where base is the database REDIS_URL names
(0 if none). Redis has 16 databases unless started with more (`--databases N`); set
FAULTLINE_REDIS_DATABASES to N when several people share one Redis with more databases.
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = int(os.environ.get("FAULTLINE_REDIS_DATABASES", "16"))


def worker_redis_url(url: str, worker: str) -> str:
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    path = parts.path.strip("/")
    base = int(path) if path else 0
    database = base + 1 + index
    if database >= REDIS_DATABASES:
        raise RuntimeError(
            f"pytest-xdist worker {worker} would use Redis database {database} "
            f"(REDIS_URL names {base}); use fewer workers or a lower database in REDIS_URL"
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


def _isolate_worker() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    if os.environ.get("REDIS_URL"):
        os.environ.setdefault("FAULTLINE_SHARED_REDIS_URL", os.environ["REDIS_URL"])
        os.environ["REDIS_URL"] = worker_redis_url(os.environ["FAULTLINE_SHARED_REDIS_URL"], worker)
    media = tempfile.mkdtemp(prefix=f"faultline-media-{worker}-")
    os.environ["MEDIA_ROOT"] = media
    os.environ.pop("IMPORT_UPLOAD_DIR", None)


_isolate_worker()
