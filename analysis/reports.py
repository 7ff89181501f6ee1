"""Agreement filters and the agreement report's tables, shared by the page, its downloads
and the API so that all three give the same numbers."""

from dataclasses import dataclass
from urllib.parse import quote

from django.db.models import Count

from annotate.access import project_items, project_rows
from annotate.models import FinalLabel

from . import charts
from .agreement import NONE, RECORDS, SCOPE, UNPAIRED, AgreementReport
from .specs import SpecError

# The keys of an agreement row, in the order the tables show them (README, Analysis).
STAT_FIELDS = [
    "n", "percent_agreement", "kappa_statistic", "kappa", "se", "se_method", "ci_low", "ci_high",
    "ci_method", "alpha", "ac1", "pabak", "kappa_max", "prevalence_index", "bias_index",
    "band",
]  # fmt: skip
SUMMARY_FIELDS = STAT_FIELDS + ["weighting", "unpaired", "undefined"]
BREAKDOWN_FIELDS = STAT_FIELDS + ["undefined"]
TRUE = {"1", "true", "on", "yes"}


@dataclass
class AgreementFilters:
    exclude_calibration: bool = False
    exclude_discussed: bool = False
    dimension: str = ""
    level: int = 1
    unpaired: str = "missing"
    phase: str = ""  # issue #17: "main", "pilot", "all"; "" is the project's default

    def query(self) -> dict:
        return {
            "exclude_calibration": "1" if self.exclude_calibration else "",
            "exclude_discussed": "1" if self.exclude_discussed else "",
            "unpaired": self.unpaired,
            "dimension": self.dimension,
            "level": self.level,
            "phase": self.phase,
        }


def parse_agreement_filters(params) -> AgreementFilters:
    level_text = params.get("level") or "1"
    if not level_text.isdigit() or int(level_text) < 1:
        raise SpecError(f"'level={level_text}' must be a whole number from 1.")
    unpaired = params.get("unpaired") or "missing"
    if unpaired not in UNPAIRED:
        raise SpecError(f"'unpaired={unpaired}' must be one of {', '.join(UNPAIRED)}.")
    return AgreementFilters(
        unpaired=unpaired,
        exclude_calibration=(params.get("exclude_calibration") or "").lower() in TRUE,
        exclude_discussed=(params.get("exclude_discussed") or "").lower() in TRUE,
        dimension=params.get("dimension") or "",
        level=int(level_text),
        phase=params.get("phase") or "",
    )


def selected_level(report: AgreementReport, filters: AgreementFilters):
    """The dimension and level the page details (the first dimension by default)."""
    if not report.dimensions:
        return None, None
    dim = next((d for d in report.dimensions if d.key == filters.dimension), report.dimensions[0])
    level = next((lv for lv in dim.levels if lv.level == filters.level), dim.levels[-1])
    return dim, level


def conflict_url(slug: str, dimension: str, a: int, b: int) -> str:
    """The conflict queue filtered to one pair of categories (issue #5's page)."""
    return f"/projects/{quote(slug)}/conflicts/?dimension={quote(dimension)}&pair={a},{b}"


def confusion_cells(slug: str, dim, level) -> list[dict]:
    """The confusion matrix as rows of cells, each off-diagonal cell with its link."""
    rows = []
    for i, (a, label) in enumerate(zip(level.ids, level.labels, strict=True)):
        cells = []
        for j, b in enumerate(level.ids):
            n = level.matrix[i][j]
            # "(none)" is no category: its cells have no conflict of their own to link to.
            link = (
                conflict_url(slug, dim.key, a, b) if i != j and n and NONE not in (a, b) else None
            )
            cells.append({"n": n, "diagonal": i == j, "url": link})
        rows.append({"label": label, "cells": cells, "total": sum(level.matrix[i])})
    return rows


def agreement_tables(report: AgreementReport, filters: AgreementFilters) -> dict:
    """name -> (caption, header, rows) for every downloadable agreement table."""
    dim, level = selected_level(report, filters)
    where = f"{dim.name}, level {level.level}" if dim else ""
    summary = [
        [
            r["dimension"],
            "full" if r["full_path"] else r["level"],
            *(r.get(f) for f in SUMMARY_FIELDS),
        ]  # fmt: skip
        for r in report.rows()
    ]
    tables = {"summary": (f"Agreement per dimension and level (unpaired labels: {report.unpaired})",
                          ["dimension", "level", *SUMMARY_FIELDS], summary)}  # fmt: skip
    if dim is None:
        return tables
    # With the reasons, as the summary's rows: an undefined kappa or interval is no blank.
    cat_fields = ["count_a", "count_b", "agreed", "kappa", "se", "ci_low", "ci_high",
                  "disagreements", "disagreement_share", "undefined", "ci_undefined"]  # fmt: skip
    tables["categories"] = (
        f"One-vs-rest kappa per category ({where})",
        ["category", *cat_fields],
        [[c["category"], *(c[f] for f in cat_fields)] for c in level.categories],
    )
    tables["confusion"] = (
        f"Confusion matrix, annotator A (rows) vs B ({where})",
        ["A \\ B", *level.labels],
        [[label, *row] for label, row in zip(level.labels, level.matrix, strict=True)],
    )
    for name, rows, key in (
        ("pairs", report.pairs, ("annotator_a", "annotator_b")),
        ("batches", report.by_batch, ("batch",)),
        ("weeks", report.by_week, ("week",)),
        ("versions", report.by_version, ("codebook_version",)),
    ):
        mine = [r for r in rows if r["dimension"] == dim.key and r["level"] == level.level]
        tables[name] = (
            f"Agreement by {name[:-1].replace('batche', 'batch')} ({where})",
            [*key, *BREAKDOWN_FIELDS],
            [[*(r[k] for k in key), *(r[f] for f in BREAKDOWN_FIELDS)] for r in mine],
        )
    return tables


def row_title(row: dict) -> str:
    """An agreement row as people name it: "Symptom, level 1", "Root cause, full path", or
    the name alone for the scope and record-count rows (they have no levels)."""
    if row["dimension"] in (SCOPE, RECORDS):
        return row["dimension_name"]
    return f"{row['dimension_name']}, " + (
        "full path" if row["full_path"] else f"level {row['level']}"
    )


def kappa_figure(report: AgreementReport):
    rows = report.rows()
    names = [STATISTIC_NAMES.get(r["kappa_statistic"]) for r in rows]
    labels = [
        f"{row_title(r)} ({n})" if n else row_title(r) for r, n in zip(rows, names, strict=True)
    ]
    # A row without an interval (too few items) shows its point alone.
    return charts.kappa_forest(
        labels,
        [r["kappa"] for r in rows],
        [r["kappa"] if r["ci_low"] is None else r["ci_low"] for r in rows],
        [r["kappa"] if r["ci_high"] is None else r["ci_high"] for r in rows],
        title="Kappa per dimension and level (95% CI)",
    )


def percent_text(share) -> str | None:
    """A share 0..1 as the pages show every percentage: one decimal."""
    return None if share is None else f"{100.0 * share:.1f}%"


# The summary's number columns: (row key, decimals); None = shown as a percentage.
SUMMARY_CELLS = [
    ("percent_agreement", None), ("kappa", 3), ("se", 3), ("alpha", 3), ("ac1", 3),
    ("pabak", 3), ("kappa_max", 3), ("prevalence_index", 3), ("bias_index", 3),
]  # fmt: skip


def display_row(row: dict) -> dict:
    """A row as the page shows it: every statistic as text, or None where it is undefined
    (the page then says "undefined" and why), the CI only when it exists, the Landis-Koch
    band only beside a defined kappa."""
    cells = {}
    for key, digits in SUMMARY_CELLS:
        value = row.get(key)
        if value is None:
            cells[key] = None
        else:
            cells[key] = percent_text(value) if digits is None else f"{value:.{digits}f}"
    ci = None
    if row.get("ci_low") is not None and row.get("ci_high") is not None:
        ci = f"{row['ci_low']:.3f} – {row['ci_high']:.3f}"
    return {
        **row,
        "cells": cells,
        "ci": ci,
        "band": row.get("band") if row.get("kappa") is not None else None,
        "statistic_name": STATISTIC_NAMES.get(row.get("kappa_statistic"), ""),
    }


STATISTIC_NAMES = {"cohen": "Cohen's", "fleiss": "Fleiss'", "light": "Light's"}


def method_notes(rows: list[dict]) -> list[str]:
    """The distinct SE and CI methods of the displayed rows, numbered in order of first use;
    each row gets `se_note` and `ci_note`, its methods' numbers, so the table shows a short
    reference instead of repeating a sentence in every row."""
    notes: list[str] = []
    for row in rows:
        for key, label in (("se_method", "SE"), ("ci_method", "95% CI")):
            text = row.get(key)
            note = None
            if text:
                text = f"{label}: {text}"
                if text not in notes:
                    notes.append(text)
                note = notes.index(text) + 1
            row[key.replace("_method", "_note")] = note
    return notes


def paired_items(project) -> int:
    """Items of the project with labels from at least two annotators: what agreement
    compares, before any filter."""
    items = project_items(project)
    items = items.annotate(coders=Count("annotations__annotator", distinct=True))
    return items.filter(coders__gte=2).count()


def no_pairs_notice(project, report: AgreementReport, filters: AgreementFilters) -> list[str]:
    """Why the report is empty and what would fill it, as paragraphs; nothing when some
    level of some dimension has a pair to compare. An imported study is the common case:
    an import brings settled labels, not each annotator's own, so it has no pair at all."""
    if any(lv.summary.get("n") for d in report.dimensions for lv in d.levels):
        return []
    in_project = paired_items(project)
    excluded = [
        name
        for name, on in (
            ("Exclude calibration items", filters.exclude_calibration),
            ("Exclude discussed items", filters.exclude_discussed),
        )
        if on
    ]
    if in_project and excluded:
        return [
            "No item left by the filters has labels from two annotators, so there is nothing "
            "to compare.",
            f"Clear “{'” and “'.join(excluded)}” to see the {in_project} items that have.",
        ]
    imported = (
        project_rows(FinalLabel, project).filter(provenance=FinalLabel.Provenance.IMPORTED).count()
    )
    single = project_items(project).filter(annotations__isnull=False).distinct().count()
    text = [
        "No item has labels from two annotators, so there is nothing to compare and no "
        "agreement figure to compute."
    ]
    if imported:
        text.append(
            f"{imported} items carry final labels imported with the dataset. An import brings "
            "the settled labels only, not each annotator's own, so imported items give no "
            "agreement figures."
        )
    if single:
        text.append(f"{single} items have one annotator's labels so far.")
    text.append(
        "Figures appear here once at least two annotators have labeled the same items: the "
        f"labeling queue gives each item to as many annotators as the project's overlap "
        f"(now {project.overlap}; an owner sets it in Settings)."
    )
    return text
