"""The facts of a project's reliability and procedure section (issue #13), read from the
live data: how the pool was drawn, how items were double-coded, the coders, the codebook's
versions, every agreement figure, the adjudication and the scope decisions.

``methods_facts`` returns plain JSON (what the API's JSON reply holds); ``methods_text``
turns it into Markdown and LaTeX without touching the database. The section follows the
Guidelines for Reporting Reliability and Agreement Studies (GRRAS; Kottner et al. 2011,
Journal of Clinical Epidemiology 64(1):96-106).
"""

import json

from django.db.models import Count, Q, Sum
from django.utils import timezone

from annotate.access import (
    final_records_in_scope,
    project_rows,
    report_name,
    repository_groups,
)
from annotate.models import (
    Annotation,
    AuditEvent,
    CodebookChange,
    Conflict,
    FinalLabel,
    Item,
    Membership,
    Role,
)
from annotate.precedents.consistency import consistency_report
from annotate.precedents.duplicates import DEFAULT_THRESHOLD
from mining.similarity import SimilarityUnavailable

from .agreement import build_agreement_report
from .calibration import summary as calibration_summary
from .codebook import load_codebook
from .phases import phase_versions

# Report-level fields of the agreement report that say how records were paired; read
# when present (the agreement report is reworked in parallel; see issue #13).
REPORT_FIELDS = ("pairing", "unpaired_convention", "record_pairing")
ROW_FIELDS = (
    "dimension", "dimension_name", "level", "full_path", "n", "percent_agreement", "kappa",
    "kappa_statistic", "se", "ci_low", "ci_high", "ci_method", "alpha", "ac1", "pabak",
    "kappa_max", "prevalence_index", "bias_index", "band", "unpaired", "undefined",
)  # fmt: skip


def _plain(value):
    """numpy scalars and other stragglers as JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _sample(project, items) -> dict:
    definition = dict(project.sample_definition or {})
    repositories = items.order_by().values("issue__repository").distinct().count()
    return {
        "definition": definition or None,
        "items": items.count(),
        "repositories": repositories,
        "groups": repository_groups(project),
    }


def _coding(project, items) -> dict:
    per_item = (
        project_rows(Annotation, project)
        .values("item_id")
        .annotate(coders=Count("annotator", distinct=True))
        .order_by()
    )
    # Counted in the database (a COUNT over the grouped rows), never row by row in Python.
    coded = per_item.count()
    double_coded = per_item.filter(coders__gte=2).count()
    # Counted from the annotations themselves (imports and bulk loads keep no counters).
    double = per_item.filter(coders__gte=2).values("item_id")
    batches = (
        items.filter(calibration=True)
        .values("batch")
        .annotate(n=Count("id"), coded=Count("id", filter=Q(id__in=double)))
        .order_by("batch")
    )
    return {
        "overlap": project.overlap,
        "items": items.count(),
        "coded": coded,
        "double_coded": double_coded,
        "single_coded": coded - double_coded,
        "uncoded": items.count() - coded,
        # Items settled by an import alone: their labels were made elsewhere.
        "imported_uncoded": items.filter(final_label__provenance=FinalLabel.Provenance.IMPORTED)
        .exclude(annotations__isnull=False)
        .count(),
        "calibration_items": items.filter(calibration=True).count(),
        "calibration_batches": [
            {"batch": b["batch"] or None, "items": b["n"], "double_coded": b["coded"]}
            for b in batches
        ],
    }


def _coders(project) -> dict:
    coders = (
        project_rows(Annotation, project)
        .values("annotator_id", "annotator__username")
        .annotate(annotations=Count("id"))
        .order_by("annotator__username")
    )
    hidden = project.hide_annotator_names
    people = [
        {
            "name": report_name(project, c["annotator_id"], c["annotator__username"]),
            "annotations": c["annotations"],
        }
        for c in coders
    ]
    if hidden:
        people.sort(key=lambda p: p["name"])
    annotator_members = project_rows(Membership, project).filter(role=Role.ANNOTATOR).count()
    return {
        "count": len(people),
        "names_hidden": hidden,
        "coders": people,
        "annotator_members": annotator_members,
        "annotations": sum(p["annotations"] for p in people),
    }


def _codebook(project) -> dict:
    trees = load_codebook(project)
    changes = (
        project_rows(CodebookChange, project)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    # order_by(): the models' default order would join and select its columns into the
    # DISTINCT, one row per annotation (465 ms at 200,000 annotations, 55 ms without).
    used = sorted(
        project_rows(Annotation, project)
        .order_by()
        .values_list("codebook_version", flat=True)
        .distinct()
    )
    return {
        "version": project.codebook_version,
        "versions_in_annotations": used,
        "changes": {c["kind"]: c["n"] for c in changes},
        "dimensions": [
            {
                "key": tree.dimension.key,
                "name": tree.dimension.name,
                # The live codebook: retired (and merged-away) categories are counted
                # apart, not as categories coders could choose.
                "levels": max(
                    (len(tree.lineage[c]) for c in tree.paths if c not in tree.retired), default=0
                ),
                "categories": len(tree.paths) - len(tree.retired),
                "retired_categories": len(tree.retired),
            }
            for tree in trees.values()
        ],
    }


def _agreement(project) -> dict:
    # Issue #17: once the project has a main (closed-coding) phase, its figures are those
    # of the main phase, and the pilot's are given apart.
    report = build_agreement_report(project=project, versions=phase_versions(project, "main"))
    rows = [{key: row.get(key) for key in ROW_FIELDS} for row in report.rows()]
    conventions = {name: getattr(report, name, None) for name in REPORT_FIELDS}
    facts = {"rows": rows, **{k: v for k, v in conventions.items() if v is not None}}
    if project.main_since_version:
        pilot = build_agreement_report(project=project, versions=phase_versions(project, "pilot"))
        facts["phases"] = {
            "main_since_version": project.main_since_version,
            "pilot_rows": [{key: row.get(key) for key in ROW_FIELDS} for row in pilot.rows()
                           if row.get("full_path")],
        }  # fmt: skip
    return json.loads(json.dumps(facts, default=_plain))


def _adjudication(project, items) -> dict:
    finals = project_rows(FinalLabel, project)
    provenance = dict(finals.values_list("provenance").annotate(n=Count("id")).order_by())
    events = project_rows(AuditEvent, project)
    error_kinds = dict(
        finals.exclude(error_kind="").values_list("error_kind").annotate(n=Count("id")).order_by()
    )
    return {
        "settled": items.filter(state=Item.State.SETTLED).count(),
        "unanimous": provenance.get(FinalLabel.Provenance.UNANIMOUS, 0),
        "adjudicated": provenance.get(FinalLabel.Provenance.ADJUDICATED, 0),
        "imported": provenance.get(FinalLabel.Provenance.IMPORTED, 0),
        "discussed": items.filter(discussed=True).count(),
        "reopened": events.filter(kind="reopened").values("item").distinct().count(),
        "in_conflict": items.filter(state=Item.State.CONFLICT).count(),
        "in_discussion": items.filter(state=Item.State.DISCUSSION).count(),
        "open": items.filter(state=Item.State.OPEN).count(),
        "excluded": items.filter(state=Item.State.EXCLUDED).count(),
        "with_rationale": finals.exclude(rationale="").count(),
        "codebook_needs_work": finals.filter(codebook_needs_work=True).count(),
        "error_kinds": {str(k): v for k, v in sorted(error_kinds.items())},
    }


def _scope(project) -> dict:
    finals = project_rows(FinalLabel, project)
    annotations = project_rows(Annotation, project)
    records = final_records_in_scope(project)
    per_item = records.values("item_id").annotate(n=Count("record", distinct=True)).order_by()
    # One pass over the records: every item's record count summed, and those above one.
    counted = per_item.aggregate(
        records=Sum("n"),
        several=Count("item_id", filter=Q(n__gt=1)),
        on_several=Sum("n", filter=Q(n__gt=1)),
    )
    return {
        "final_out_of_scope": finals.filter(out_of_scope=True).count(),
        "final_in_scope": finals.filter(out_of_scope=False).count(),
        "annotations_out_of_scope": annotations.filter(out_of_scope=True).count(),
        "scope_disagreements": project_rows(Conflict, project)
        .filter(kind=Conflict.Kind.SCOPE)
        .values("item")
        .distinct()
        .count(),
        "final_records": counted["records"] or 0,
        "issues_with_several_records": counted["several"],
        "records_on_those_issues": counted["on_several"] or 0,
    }


def _consistency(project) -> dict:
    """Near-duplicate settled items and how many differ in their final labels (issue #19,
    annotate.precedents.consistency); empty where there is no similarity (SQLite)."""
    try:
        report = consistency_report(project=project, threshold=DEFAULT_THRESHOLD)
    except SimilarityUnavailable:
        return {}
    return {
        "threshold": report.threshold,
        "settled": report.settled,
        "pairs": report.pairs,
        "differing": len(report.differing),
        "confirmed": sum(1 for pair in report.differing if pair.confirmed is not None),
        "by_dimension": dict(sorted(report.by_dimension.items())),
    }


def methods_facts(project) -> dict:
    """Every number of the methods section, from the live data, as plain JSON."""
    items = project_rows(Item, project)
    return {
        "project": {"name": project.name, "slug": project.slug},
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "sample": _sample(project, items),
        "coding": _coding(project, items),
        "coders": _coders(project),
        "codebook": _codebook(project),
        "agreement": _agreement(project),
        "adjudication": _adjudication(project, items),
        "scope": _scope(project),
        "consistency": _consistency(project),
        "coder_calibration": calibration_summary(project),
    }
