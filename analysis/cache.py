"""The analysis pages' expensive outputs (distribution panels and charts, the agreement
report and its chart, the methods section), cached per project and data version.

The version (analysis.models.DataStamp, kept by the triggers of migration 0005) moves with
any write that changes what these pages read, by whatever path; the caching itself is
annotate.versioned's, which pages below analysis (the conflict queue) use too."""

from django.utils import timezone

from annotate.versioned import cached, data_version  # noqa: F401 - the analysis pages' API

from .agreement import build_agreement_report
from .methods import methods_facts as build_methods_facts
from .methods_machine import machine_facts


def agreement_report(*, project, **options):
    """build_agreement_report's report (``options``: its keyword arguments), cached. The
    report depends on the project's data alone (names follow the project's setting), never
    on who reads it."""
    parts = ("agreement", tuple(sorted(options.items())))
    return cached(project, parts, lambda: build_agreement_report(project=project, **options))


def methods_facts(project) -> dict:
    """The methods section's facts (analysis.methods.methods_facts), cached; dated now
    (the data is the same as when they were computed, or the version would differ)."""
    version = data_version(project)
    facts = cached(project, ("methods",), lambda: build_methods_facts(project), version)
    now = timezone.now().isoformat(timespec="seconds")
    return {**facts, "machines": machine_facts_cached(project, version), "generated_at": now}


def machine_facts_cached(project, version: int | None) -> list[dict]:
    """machine_facts, cached per data version and the project's finished rater runs: a run
    that finishes does not move the data version (a rater's writes would otherwise void
    every analysis page while it runs), so the runs' ids are part of the key; adding,
    changing or removing a rater is audited, which moves the version."""
    from annotate.access import project_rater_runs
    from annotate.models import RaterRun

    finished = tuple(
        project_rater_runs(project)
        .filter(status=RaterRun.Status.SUCCEEDED)
        .order_by("pk")
        .values_list("rater_id", "pk", "codebook_version")
    )
    if not finished:
        return []
    return cached(project, ("machines", finished), lambda: machine_facts(project), version)
