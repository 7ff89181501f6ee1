"""The study's research-question views (RQ1-RQ6) and the free cross-tab, as panels: a
cross-tab, its charts and tables. Shared by the distributions page and its downloads."""

from dataclasses import dataclass, field, replace

from annotate.access import SourceAccess, label_source_access, project_rows
from annotate.models import Dimension

from . import charts, metrics
from .cache import cached
from .codebook import load_codebook
from .distributions import (
    CrossTab,
    build_crosstab,
    correlation_matrix,
    shared_issues,
    table_dimensions,
)
from .fix_specs import fixes_stamp
from .specs import Source, SpecError, parse_source, parse_spec

VIEWS = {
    "rq1": ("RQ1 · Symptoms", "What symptoms do the failures show?", ["bars", "treemap"]),
    "rq2": ("RQ2 · Root causes", "What causes the failures?", ["bars", "treemap"]),
    "rq3": ("RQ3 · Symptom × root cause", "Which causes lead to which symptoms?", ["heatmap"]),
    "rq4": ("RQ4 · Across groups", "Do model series differ?", ["percent", "correlation"]),
    "rq5": ("RQ5 · Across stages", "Do fine-tuning and inference differ?", ["percent"]),
    "rq6": (
        "RQ6 · Across models",
        "Do models within one group differ?",
        ["percent", "correlation"],
    ),
    "explore": ("Cross-tab", "Any two SPECs against each other.", ["heatmap"]),
}


@dataclass
class Filters:
    view: str = "rq1"
    source: Source = field(default_factory=lambda: Source(kind="final"))
    level: int = 1
    dimension: str = "symptom"
    group: str | None = None
    rows: str = "dim:symptom@1"
    cols: str = "group"

    def query(self) -> dict:
        return {
            "source": str(self.source),
            "level": self.level,
            "dimension": self.dimension,
            "group": self.group or "",
            "rows": self.rows,
            "cols": self.cols,
        }


@dataclass
class Panel:
    name: str
    title: str
    question: str
    chart_kinds: list[str]
    table: CrossTab | None = None
    hierarchy: list | None = None
    correlation: object = None
    error: str | None = None
    shares: list = field(default_factory=list)  # one-way tables: rows with Wilson CIs
    row_shares: list = field(default_factory=list)  # two-way tables: row shares, Wilson CIs
    chi2: dict | None = None  # the chi-square test as the page prints it


def parse_filters(params, project) -> Filters:
    """Dashboard filters from query parameters; SpecError names a bad one."""
    view = params.get("view") or "rq1"
    if view not in VIEWS:
        raise SpecError(f"'view={view}' is not a view; use one of {', '.join(VIEWS)}.")
    level_text = params.get("level") or "1"
    if not level_text.isdigit() or int(level_text) < 1:
        raise SpecError(f"'level={level_text}' must be a whole number from 1.")
    keys = list(project_rows(Dimension, project).values_list("key", flat=True))
    dimension = params.get("dimension") or ("symptom" if "symptom" in keys else keys[0])
    if dimension not in keys:
        raise SpecError(f"'dimension={dimension}': this project has {', '.join(keys)}.")
    return Filters(
        view=view,
        source=parse_source(params.get("source")),
        level=int(level_text),
        dimension=dimension,
        group=params.get("group") or None,
        rows=params.get("rows") or f"dim:{dimension}@1",
        cols=params.get("cols") or "group",
    )


def access_source(*, project, membership, source: Source) -> SourceAccess:
    """The labels the caller may read through ``source`` (the rule is
    annotate.access.label_source_access); naming no member is a bad parameter."""
    access = label_source_access(project, membership, source)
    if access is None:
        raise SpecError(f"'source={source}': no member of this project is named so.")
    return access


def _level(level: int, tree) -> int:
    return min(level, tree.depth)


def _clamp(spec, trees):
    """The study's views take one level for every dimension; a shallower tree stops at its
    full path."""
    if spec is not None and spec.kind == "dim" and spec.key in trees and spec.level:
        return replace(spec, level=_level(spec.level, trees[spec.key]))
    return spec


def build_panel(*, project, filters: Filters, access: SourceAccess, view: str | None = None):
    """One panel's cross-tab (and hierarchy or correlation where its charts need them)."""
    name = view or filters.view
    title, question, kinds = VIEWS[name]
    panel = Panel(name=name, title=title, question=question, chart_kinds=kinds)
    trees = load_codebook(project)
    d = filters.dimension
    try:
        level = _level(filters.level, trees[d]) if d in trees else filters.level
        specs = {
            "rq1": (f"dim:symptom@{filters.level}", None, None),
            "rq2": (f"dim:root_cause@{filters.level}", None, None),
            "rq3": (f"dim:symptom@{filters.level}", f"dim:root_cause@{filters.level}", None),
            "rq4": ("group", f"dim:{d}@{level}", None),
            "rq5": ("dim:stage", f"dim:{d}@{level}", None),
            "rq6": ("meta:model", f"dim:{d}@{level}", filters.group),
            "explore": (filters.rows, filters.cols, None),
        }
        rows_text, cols_text, group = specs[name]
        rows = parse_spec(rows_text, name="rows")
        cols = parse_spec(cols_text, name="cols") if cols_text else None
        if name != "explore":
            rows, cols = _clamp(rows, trees), _clamp(cols, trees)
        common = {"project": project, "source": filters.source, "user": access.user,
                  "settled_only": access.settled_only}  # fmt: skip
        panel.table = build_crosstab(rows=rows, cols=cols, group=group, **common)
        if cols is None:
            panel.shares = share_rows(panel.table)
        else:
            # The records of the table only: one without a label on a dimension axis is
            # in no cell, and would count here as an issue's second record.
            panel.table.extras["shared_issues"] = shared_issues(
                group=group, dimensions=table_dimensions(trees, rows, cols), **common
            )
            panel.chi2 = chi2_summary(panel.table.extras)
            panel.row_shares = row_share_rows(panel.table)
        if "treemap" in kinds:
            tree = trees[rows.key]
            deep = parse_spec(f"dim:{rows.key}@{min(2, tree.depth)}")
            panel.hierarchy = _hierarchy(build_crosstab(rows=deep, cols=None, **common), tree)
        if "correlation" in kinds:
            panel.correlation = correlation_matrix(panel.table)
    except SpecError as error:
        panel.error = str(error)
    return panel


def cached_panel(*, project, filters: Filters, access: SourceAccess, view: str | None = None):
    """build_panel's panel from the analysis cache, and the key's parts (for its charts):
    the view, the filters and the labels the caller reads through them (whose, and whether
    of settled items only), at the project's data version."""
    parts = (view or filters.view, tuple(sorted(filters.query().items())),
             getattr(access.user, "pk", None), access.settled_only,
             fixes_stamp(project, (filters.rows, filters.cols)))  # fmt: skip
    panel = cached(
        project,
        ("panel", *parts),
        lambda: build_panel(project=project, filters=filters, access=access, view=view),
    )
    return panel, parts


def share_rows(table: CrossTab) -> list[dict]:
    """Each row of a one-way table: its count, its share of the total in percent and the
    share's Wilson 95% interval in percent (Wilson 1927; Brown, Cai & DasGupta 2001
    recommend it over the Wald interval for small counts and shares near 0 or 1)."""
    total = table.total
    rows = []
    for label, counts in zip(table.rows, table.counts, strict=True):
        low, high = metrics.wilson_interval(counts[0], total)
        rows.append({
            "label": label, "count": counts[0],
            "percent": 100.0 * counts[0] / total if total else None,
            "ci_low": None if low is None else 100.0 * low,
            "ci_high": None if high is None else 100.0 * high,
        })  # fmt: skip
    return rows


def row_share_rows(table: CrossTab) -> list[dict]:
    """Each row of a two-way table as shares of the row's records per column (what the
    percent bars draw), in percent, each with its Wilson 95% interval in percent."""
    rows = []
    for label, counts in zip(table.rows, table.counts, strict=True):
        total = sum(counts)
        cells = []
        for count in counts:
            low, high = metrics.wilson_interval(count, total)
            cells.append({
                "count": count,
                "percent": 100.0 * count / total if total else None,
                "ci_low": None if low is None else 100.0 * low,
                "ci_high": None if high is None else 100.0 * high,
            })  # fmt: skip
        rows.append({"label": label, "total": total, "cells": cells})
    return rows


def share_table(panel: Panel) -> tuple[list, list]:
    """Every share of the panel's table in long form (row, column, records, of, percent,
    Wilson 95% interval): shares of the total for a one-way table, of the row otherwise."""
    table = panel.table
    header = [table.row_spec or "rows", table.col_spec or "column", "records", "of",
              "percent", "ci95_low_percent", "ci95_high_percent"]  # fmt: skip
    if table.cols == ["records"]:
        total = table.total
        return header, [[r["label"], "records", r["count"], total, r["percent"], r["ci_low"],
                         r["ci_high"]] for r in share_rows(table)]  # fmt: skip
    rows = [
        [row["label"], col, cell["count"], row["total"], cell["percent"], cell["ci_low"],
         cell["ci_high"]]
        for row in row_share_rows(table)
        for col, cell in zip(table.cols, row["cells"], strict=True)
    ]  # fmt: skip
    return header, rows


def chi2_summary(extras: dict) -> dict | None:
    """The chi-square test of a two-way table as sentences for the page: the statistic with
    both Cramér's Vs, Cochran's expected-count warning and the Monte-Carlo p beside the
    asymptotic one when it applies, what was done about Yates's correction, and a note when
    issues contribute several records."""
    chi2 = extras.get("chi2")
    if not chi2:
        return None
    if chi2.get("undefined"):
        return {"undefined": chi2["undefined"]}
    v_corrected = chi2.get("cramers_v_corrected")
    summary = {
        "statistic": f"χ² = {chi2['chi2']:.2f}, df = {chi2['dof']}, "
        f"p {_p_text(chi2['p_value'])} (asymptotic)",
        "effect": f"Cramér's V = {chi2['cramers_v']:.3f}, bias-corrected V (Bergsma 2013) = "
        + (
            "undefined (too few records: Bergsma's corrected table has a single row or column)"
            if v_corrected is None
            else f"{v_corrected:.3f}"
        )
        + f" (n = {chi2['n']})",
        "yates": "Yates's continuity correction: applies to 2×2 tables only; not used "
        "(Pearson's uncorrected χ²)."
        if chi2.get("yates_applies")
        else "Yates's continuity correction: not applicable (the table is not 2×2); not used.",
    }
    if chi2.get("sparse"):
        summary["warning"] = (
            f"{100 * chi2['expected_below_5']:.0f}% of cells have an expected count below 5 "
            f"and the smallest is {chi2['expected_min']:.2f}: Cochran's rule (no expected "
            "count below 1, at most 20% below 5) is broken, so the asymptotic p is unreliable."
        )
    if chi2.get("p_monte_carlo") is not None:
        summary["monte_carlo"] = (
            f"Monte-Carlo p {_p_text(chi2['p_monte_carlo'])} "
            f"({chi2['monte_carlo_resamples']} tables with the observed margins, "
            f"seed {chi2['monte_carlo_seed']})"
        )
    if chi2.get("monte_carlo_skipped"):
        summary["monte_carlo"] = f"Monte-Carlo p not computed: {chi2['monte_carlo_skipped']}"
    shared = extras.get("shared_issues") or {}
    if shared.get("issues"):
        summary["dependence"] = (
            f"{shared['issues']} issue(s) contribute {shared['records']} records between them: "
            "records of one issue are not independent, which the test assumes."
        )
    return summary


def _p_text(p: float) -> str:
    text = metrics.format_p(p)
    return text if text.startswith("<") else f"= {text}"


def _hierarchy(table: CrossTab, tree) -> list:
    """[(top name, count, [(child name, count), ...])] in codebook order."""
    groups: dict[int, list] = {}
    for cid, row in zip(table.row_ids or [], table.counts, strict=True):
        top = tree.ancestor(cid, 1)
        entry = groups.setdefault(top, [tree.names[top], 0, []])
        entry[1] += row[0]
        if cid != top:
            entry[2].append((tree.names[cid], row[0]))
    return [tuple(groups[top]) for top in tree.ordered(groups)]


def panel_figure(panel: Panel, kind: str):
    """The matplotlib figure of one chart of a panel."""
    table = panel.table
    if panel.error or table is None:
        return charts.empty(panel.error or "No data.")
    title = panel.title
    if kind == "bars":
        intervals = [(r["ci_low"], r["ci_high"]) for r in share_rows(table)]
        return charts.bars(
            table.rows, [row[0] for row in table.counts], title=title, intervals=intervals
        )
    if kind == "treemap":
        return charts.treemap(panel.hierarchy or [], title=title)
    if kind == "heatmap":
        return charts.heatmap(table.rows, table.cols, table.counts, title=title)
    if kind == "percent":
        return charts.percent_bars(table.rows, table.cols, table.counts, title=title)
    if kind == "correlation" and panel.correlation is not None:
        corr = panel.correlation
        return charts.correlation(corr.labels, corr.r, title=f"{title}: Pearson's r")
    raise SpecError(f"The view '{panel.name}' has no '{kind}' chart.")


def panel_tables(panel: Panel) -> dict[str, tuple[list, list]]:
    """The panel's downloadable tables: name -> (header, rows)."""
    if panel.table is None:
        return {}
    table = panel.table
    header = [table.row_spec or "rows", *table.cols]
    if table.cols == ["records"]:
        rows = [[r["label"], r["count"], r["percent"], r["ci_low"], r["ci_high"]]
                for r in share_rows(table)]  # fmt: skip
        header = [table.row_spec, "records", "percent", "ci95_low_percent", "ci95_high_percent"]
        result = {panel.name: (header, rows)}
    else:
        rows = [[r, *c] for r, c in zip(table.rows, table.counts, strict=True)]
        result = {panel.name: (header, rows)}
    if panel.correlation is not None:
        corr = panel.correlation
        result[f"{panel.name}-correlation"] = (
            ["group", *corr.labels],
            [[label, *row] for label, row in zip(corr.labels, corr.r, strict=True)],
        )
    return result
