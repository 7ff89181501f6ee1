"""Expiry: abandoned assignments give their items' slots back.

An assignment not submitted by its `expires_at` frees its item for someone else. The
`expire_assignments` command sweeps every project; `next_item` sweeps its own project at
most once per SWEEP_SECONDS (`sweep_due` elects one process through the shared cache).
"""

import time

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    Count,
    OuterRef,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotate.access import project_rows
from annotate.models import (
    Assignment,
    Item,
    Project,
)

# Abandoned assignments are swept at most this often per project by `next_item`; the
# `expire_assignments` command does it for every project whenever it is run.
SWEEP_SECONDS = 30


@transaction.atomic
def expire_assignments(*, project: Project | None = None, now=None) -> int:
    """Expire active assignments past their `expires_at` and free their items' slots.

    Items locked by someone else right now are left for the next sweep. Idempotent.
    Returns the number of assignments expired."""
    now = now or timezone.now()
    stale = Assignment.objects.filter(state=Assignment.State.ACTIVE, expires_at__lt=now)
    items = Item.objects.filter(pk__in=stale.values("item_id"))
    if project is not None:
        items = items & project_rows(Item, project)
    locked = list(
        items.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
    )
    if not locked:
        return 0
    expired = stale.filter(item_id__in=locked).update(
        state=Assignment.State.EXPIRED, completed_at=now
    )
    live = (
        Assignment.objects.filter(
            item=OuterRef("pk"),
            state__in=[Assignment.State.ACTIVE, Assignment.State.SUBMITTED],
        )
        .order_by()
        .values("item")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Item.objects.filter(pk__in=locked).update(assigned_count=Coalesce(Subquery(live), 0))
    return expired


_swept_at: dict[int, float] = {}


def sweep_due(project: Project) -> bool:
    """True at most once per SWEEP_SECONDS per project across processes (the shared cache
    elects the sweeper); each process asks the cache at most that often, not per call."""
    now = time.monotonic()
    if now - _swept_at.get(project.pk, -SWEEP_SECONDS) < SWEEP_SECONDS:
        return False
    _swept_at[project.pk] = now
    return cache.add(f"faultline:labeling:sweep:{project.pk}", 1, SWEEP_SECONDS)
