"""Agreement filters and the agreement report's tables, shared by the page, its downloads
and the API so that all three give the same numbers."""

from dataclasses import dataclass
from urllib.parse import quote

from . import charts
from .agreement import AgreementReport
from .specs import SpecError

SUMMARY_FIELDS = [
    "n", "percent_agreement", "kappa", "se", "ci_low", "ci_high", "alpha", "ac1", "band",
    "unpaired", "undefined",
]  # fmt: skip
BREAKDOWN_FIELDS = SUMMARY_FIELDS[:-2] + ["undefined"]
TABLES = ("summary", "categories", "confusion", "pairs", "batches", "weeks", "versions")
TRUE = {"1", "true", "on", "yes"}


@dataclass
class AgreementFilters:
    exclude_calibration: bool = False
    exclude_discussed: bool = False
    dimension: str = ""
    level: int = 1

    def query(self) -> dict:
        return {
            "exclude_calibration": "1" if self.exclude_calibration else "",
            "exclude_discussed": "1" if self.exclude_discussed else "",
            "dimension": self.dimension,
            "level": self.level,
        }


def parse_agreement_filters(params) -> AgreementFilters:
    level_text = params.get("level") or "1"
    if not level_text.isdigit() or int(level_text) < 1:
        raise SpecError(f"'level={level_text}' must be a whole number from 1.")
    return AgreementFilters(
        exclude_calibration=(params.get("exclude_calibration") or "").lower() in TRUE,
        exclude_discussed=(params.get("exclude_discussed") or "").lower() in TRUE,
        dimension=params.get("dimension") or "",
        level=int(level_text),
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
            link = conflict_url(slug, dim.key, a, b) if i != j and n else None
            cells.append({"n": n, "diagonal": i == j, "url": link})
        rows.append({"label": label, "cells": cells, "total": sum(level.matrix[i])})
    return rows


def agreement_tables(report: AgreementReport, filters: AgreementFilters) -> dict:
    """name -> (caption, header, rows) for every downloadable agreement table."""
    dim, level = selected_level(report, filters)
    where = f"{dim.name}, level {level.level}" if dim else ""
    summary = [
        [r["dimension"], "full" if r["full_path"] else r["level"], *(r[f] for f in SUMMARY_FIELDS)]
        for r in report.rows()
    ]
    tables = {"summary": ("Agreement per dimension and level",
                          ["dimension", "level", *SUMMARY_FIELDS], summary)}  # fmt: skip
    if dim is None:
        return tables
    cat_fields = ["count_a", "count_b", "agreed", "kappa", "se", "ci_low", "ci_high",
                  "disagreements", "disagreement_share"]  # fmt: skip
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


def kappa_figure(report: AgreementReport):
    rows = report.rows()
    labels = [f"{r['dimension']} @{'full' if r['full_path'] else r['level']}" for r in rows]
    return charts.kappa_forest(
        labels,
        [r["kappa"] for r in rows],
        [r["ci_low"] for r in rows],
        [r["ci_high"] for r in rows],
        title="Cohen's kappa per dimension and level",
    )
