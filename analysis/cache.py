"""The analysis pages' expensive outputs (distribution panels and charts, the agreement
report and its chart, the methods section), cached per project and data version.

The version (analysis.models.DataStamp) is kept by database triggers, so any write that
changes what these pages read, by whatever path, moves the project to a new key; old
entries are never read again and expire. The version is read before the data, so an entry
never holds data older than its version. A key carries every input of the output: the
caller passes the parameters and, where the output depends on who reads, the resolved
visibility (whose labels, settled items only), never the reader's identity alone.

Only on PostgreSQL, where the triggers exist; elsewhere every call computes."""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from .agreement import build_agreement_report
from .methods import methods_facts as build_methods_facts
from .models import DataStamp

ALIAS = "analysis"


def data_version(project) -> int | None:
    """The project's data version, or None where no triggers keep one."""
    if connection.vendor != "postgresql":
        return None
    return DataStamp.objects.version(project.pk)


def _key(project, version: int, parts: tuple) -> str:
    # The database's name and the project's creation time keep a recreated database (tests,
    # a restored dump) from reading entries of projects that had the same id.
    scope = f"{settings.DATABASES['default']['NAME']}:{project.pk}:{project.created_at.timestamp()}"
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"v1:{hashlib.sha256(scope.encode()).hexdigest()[:16]}:{version}:{digest}"


def cached(project, parts: tuple, compute: Callable[[], object]):
    """``compute()``, or its result cached for ``project`` at its current data version and
    ``parts`` (a tuple of plain values naming the output and every parameter it depends
    on)."""
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


def agreement_report(*, project, **options):
    """build_agreement_report's report (``options``: its keyword arguments), cached. The
    report depends on the project's data alone (names follow the project's setting), never
    on who reads it."""
    parts = ("agreement", tuple(sorted(options.items())))
    return cached(project, parts, lambda: build_agreement_report(project=project, **options))


def methods_facts(project) -> dict:
    """The methods section's facts (analysis.methods.methods_facts), cached; dated now
    (the data is the same as when they were computed, or the version would differ)."""
    facts = cached(project, ("methods",), lambda: build_methods_facts(project))
    return {**facts, "generated_at": timezone.now().isoformat(timespec="seconds")}
