"""Streaming a project's dataset out as olf, JSONL or CSV in constant memory.

The database pivots each failure record's labels (one row per dimension) into one row with
a column per dimension; Python only formats. Rows come through a server-side cursor
(`.iterator(chunk_size=…)`), so memory does not grow with the dataset.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import (
    BooleanField,
    CharField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from annotate.access import (
    final_record_labels,
    project_annotations,
    project_dimensions,
    project_rows,
    pseudonym,
    settled_final_labels,
)
from annotate.models import (
    PATH_SEPARATOR,
    AnnotationLabel,
    Item,
    Project,
)
from dataset.fixes import FIX_FIELDS, csv_cells, with_fixes
from dataset.formats import FORMATS, METADATA_FIELDS, field_name, olf_fields, write_rows
from mining.access import readable_by_own_project_q
from mining.models import project_view, web_root

LABEL_CHOICES = ("final", "all")
CHUNK_SIZE = 5000
CONTENT_TYPES = {
    "olf": "application/json",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
}
FILE_SUFFIX = {"olf": "json", "jsonl": "jsonl", "csv": "csv"}


def export_fields(project: Project, fmt: str, labels: str, dimensions=None) -> list[str]:
    keys = [d.key for d in (project_dimensions(project) if dimensions is None else dimensions)]
    if fmt == "olf":
        names = [*olf_fields(keys, extra=False), "provenance"]
        return names + (["source", "out_of_scope"] if labels == "all" else []) + [*FIX_FIELDS]
    return olf_fields(keys, extra=True) + [*FIX_FIELDS]


def filename(project: Project, fmt: str, labels: str) -> str:
    return f"{project.slug}-{labels}.{FILE_SUFFIX[fmt]}"


def _columns(*, record, source_kind, annotator, provenance, out_of_scope, version) -> dict:
    """The export's columns, reached from a row that has an `item`; the same names and
    order for every part of the union."""
    return {
        "item_pk": F("item_id"),
        "issue_pk": F("item__issue_id"),
        # For the fix columns (dataset/fixes.py): the creation, whether its fix
        # links were fetched, and whether the item's project may read its text.
        "created": F("item__issue__created_at"),
        "fixes_synced": F("item__issue__fixes_synced_at"),
        "readable": ExpressionWrapper(readable_by_own_project_q("item__"), BooleanField()),
        "position": F("item__position"),
        "rec": record,
        "owner": F("item__issue__repository__owner"),
        "repo": F("item__issue__repository__name"),
        "src": F("item__issue__repository__source"),
        # The group is the exporting project's own (never another project's).
        "grp": project_view(
            "group", project=OuterRef("item__project"), repository="item__issue__repository"
        ),
        "num": F("item__issue__number"),
        "pull": F("item__issue__is_pull_request"),
        "status": F("item__issue__state"),
        **{f"meta_{name}": KeyTextTransform(name, "item__metadata") for name in METADATA_FIELDS},
        "source_kind": Value(source_kind, output_field=IntegerField()),
        "who": annotator,
        "prov": provenance,
        "oos": out_of_scope,
        "cbv": version,
    }


def _pivot(dimensions) -> dict:
    return {f"dim_{d.pk}": Max("category__path", filter=Q(dimension_id=d.pk)) for d in dimensions}


def _no_labels(dimensions) -> dict:
    return {f"dim_{d.pk}": Cast(Value(None), output_field=CharField()) for d in dimensions}


NO_ANNOTATOR = Cast(Value(None), output_field=IntegerField())
RECORD_ZERO = Value(0, output_field=IntegerField())


def final_rows_query(project: Project, dimensions):
    """One row per final failure record, ordered by sample position."""
    return (
        final_record_labels(project)
        .filter(item__state=Item.State.SETTLED, final__out_of_scope=False)
        .values(
            **_columns(
                record=F("record"),
                source_kind=0,
                annotator=NO_ANNOTATOR,
                provenance=F("final__provenance"),
                out_of_scope=Value(False, output_field=BooleanField()),
                version=F("final__codebook_version"),
            )
        )
        .annotate(**_pivot(dimensions))
        .order_by("position", "item_pk", "rec")
    )


def all_rows_query(project: Project, dimensions):
    """Final records and every annotator's records (out-of-scope decisions as one row
    without categories), each item's rows together: final first, then by annotator."""
    finals = final_rows_query(project, dimensions).order_by()
    final_oos = (
        settled_final_labels(project)
        .filter(out_of_scope=True)
        .values(
            **_columns(
                record=RECORD_ZERO,
                source_kind=0,
                annotator=NO_ANNOTATOR,
                provenance=F("provenance"),
                out_of_scope=F("out_of_scope"),
                version=F("codebook_version"),
            ),
            **_no_labels(dimensions),
        )
        .order_by()
    )
    annotations = (
        project_rows(AnnotationLabel, project)
        .values(
            **_columns(
                record=F("record"),
                source_kind=1,
                annotator=F("annotator_id"),
                provenance=Value("annotation", output_field=CharField()),
                out_of_scope=F("annotation__out_of_scope"),
                version=F("annotation__codebook_version"),
            )
        )
        .annotate(**_pivot(dimensions))
        .order_by()
    )
    annotation_oos = (
        project_annotations(project)
        .filter(out_of_scope=True)
        .values(
            **_columns(
                record=RECORD_ZERO,
                source_kind=1,
                annotator=F("annotator_id"),
                provenance=Value("annotation", output_field=CharField()),
                out_of_scope=F("out_of_scope"),
                version=F("codebook_version"),
            ),
            **_no_labels(dimensions),
        )
        .order_by()
    )
    return finals.union(final_oos, annotations, annotation_oos, all=True).order_by(
        "position", "item_pk", "rec", "source_kind", "who"
    )


def iter_records(project: Project, labels: str = "final", dimensions=None) -> Iterator[dict]:
    """The export's records as dicts, keyed by export field names, streamed."""
    if dimensions is None:
        dimensions = list(project_dimensions(project))
    query = (
        all_rows_query(project, dimensions)
        if labels == "all"
        else final_rows_query(project, dimensions)
    )
    names = [(f"dim_{d.pk}", field_name(d.key)) for d in dimensions]
    pseudonyms: dict[int, str] = {}
    number = 0
    rows = with_fixes(project, query.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE)
    for row, fixes in rows:
        number += 1
        kind = "pull" if row["pull"] else "issues"
        if row["who"] is None:
            source = "final"
        else:
            source = pseudonyms.get(row["who"])
            if source is None:
                source = pseudonyms[row["who"]] = pseudonym(project.pk, row["who"])
        record = {
            "number": number,
            # From the issue's own source: github.com's links only for github.com's issues.
            "link": f"{web_root(row['src'])}/{row['owner']}/{row['repo']}/{kind}/{row['num']}",
            "status": row["status"],
        }
        for column, name in names:
            path = row[column]
            record[name] = path.replace(PATH_SEPARATOR, " - ") if path else None
        record["model"] = row["meta_model"]
        record["architecture"] = row["meta_architecture"]
        record["repository"] = f"{row['owner']}/{row['repo']}"
        record["group"] = row["grp"]
        record["issue"] = row["num"]
        record["item"] = row["item_pk"]
        record["record"] = row["rec"]
        record["source"] = source
        record["provenance"] = row["prov"]
        record["out_of_scope"] = row["oos"]
        record["codebook_version"] = row["cbv"]
        record.update(fixes)
        yield record


def stream_export(project: Project, fmt: str, labels: str = "final") -> Iterator[str]:
    """The export as text chunks in `fmt` (olf, jsonl, csv)."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format '{fmt}'.")
    if labels not in LABEL_CHOICES:
        raise ValueError(f"Unknown labels '{labels}'.")
    dimensions = list(project_dimensions(project))
    fields = export_fields(project, fmt, labels, dimensions)
    records = iter_records(project, labels, dimensions)
    if fmt == "olf":
        wanted = set(fields)
        records = ({k: v for k, v in r.items() if k in wanted} for r in records)
    if fmt == "csv":
        records = (csv_cells(r) for r in records)
    return _batched(write_rows(records, fmt, fields))


def _batched(chunks: Iterator[str], size: int = 64 * 1024) -> Iterator[str]:
    """Join small pieces into ~64 kB chunks: fewer writes to the socket."""
    buffer, length = [], 0
    for chunk in chunks:
        buffer.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)
