"""Values computed from a project's data, cached until the data changes.

The data version is a sum kept by database triggers (analysis migration 0005, table
analysis_datastamp): every statement that writes labels, annotations, final labels,
items, conflicts, the codebook, members or repository views bumps it, whichever code path
runs it. A cached value is keyed by the version, so the first read after any change
computes afresh; old entries expire. The version is read before the data, so an entry is
never older than its key. This module reads the table by name (annotate sits below
analysis, which owns the model and its triggers) and caches only on PostgreSQL, where the
triggers exist. Cache alias: ``analysis``."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import connection

ALIAS = "analysis"
# Moves when what a cached value holds changes (a new release's tables or facts), so that
# an upgrade never serves the entries of the code before it: v2, the shared-issues note of a
# table counts only the records in its cells, and methods facts carry calibration settings.
FORMAT = "v2"


def data_version(project) -> int | None:
    """The project's data version, or None where no triggers keep one."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n), 0) FROM analysis_datastamp WHERE project_id = %s",
            [project.pk],
        )
        return int(cursor.fetchone()[0])


def _key(project, version: int, parts: tuple) -> str:
    # The database's name and the project's creation time keep a recreated database (tests,
    # a restored dump) from reading entries of projects that had the same id.
    scope = f"{settings.DATABASES['default']['NAME']}:{project.pk}:{project.created_at.timestamp()}"
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"{FORMAT}:{hashlib.sha256(scope.encode()).hexdigest()[:16]}:{version}:{digest}"


def cached(project, parts: tuple, compute: Callable[[], object], version: int | None = None):
    """``compute()``, or its result cached for ``project`` at its current data version and
    ``parts``: a tuple of plain values naming the output and every input it depends on,
    including, where the output depends on who reads, the resolved visibility (whose
    labels, settled items only), never the reader's identity alone. ``version``: the data
    version read by the caller before any of the data (saves a query when a request
    caches several values), else read here."""
    if version is None:
        version = data_version(project)
    if version is None:
        return compute()
    cache = caches[ALIAS]
    key = _key(project, version, parts)
    hit = cache.get(key)
    if hit is not None:
        return hit[0]
    value = compute()
    cache.set(key, (value,))
    return value
