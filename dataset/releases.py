"""Releases: versioned, immutable zip snapshots of a project's dataset that researchers cite.

A release holds the final labels (olf, JSONL, CSV), every annotator's labels of settled items
under stable pseudonyms (JSONL), the codebook with its version (JSON), an agreement report
(JSON), a README with counts and a manifest with the SHA-256 of every file.

The agreement report is the analysis app's (analysis.agreement), the same numbers as the
agreement page; it holds statistics only, never an annotator's labels.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from analysis.agreement import build_agreement_report
from analysis.methods import methods_facts
from analysis.methods_text import methods_latex, methods_markdown
from annotate.access import (
    project_dimensions,
    project_items,
    project_releases,
    project_rows,
    pseudonym,
    repository_views_with_items,
)
from annotate.codebook.queries import codebook_data
from annotate.errors import ServiceError
from annotate.models import Annotation, Item, Project, Release
from dataset.exporting import export_fields, iter_records, stream_export
from dataset.formats import field_name
from dataset.hub import hub_files

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: the same data gives the same bytes


def _pseudonymised(project, facts: dict) -> dict:
    """The methods section's facts with its coders named as the release's annotations name
    them (a release names annotators only by pseudonym, whatever the project shows)."""
    coders = facts["coders"]
    if coders["names_hidden"] or not coders["coders"]:
        return facts
    counts = (
        project_rows(Annotation, project)
        .values_list("annotator_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    people = sorted(
        ({"name": pseudonym(project.pk, pk), "annotations": n} for pk, n in counts),
        key=lambda c: c["name"],
    )
    return {**facts, "coders": {**coders, "coders": people, "pseudonyms": True}}


def agreement_document(project: Project) -> dict:
    """The analysis app's agreement report (per dimension and level), as plain JSON."""
    report = build_agreement_report(project=project)
    return {
        "method": "analysis.agreement: kappa named per row (Cohen's for two annotators, "
        "Fleiss' or Light's for more) with SE and 95% CI, Krippendorff's alpha, Gwet's AC1, "
        "PABAK, kappa_max, prevalence and bias indices and percent agreement per dimension "
        "and level, scope and number of records; n counts items",
        "record_pairing": report.record_pairing,
        "unpaired": report.unpaired_convention,
        "rows": json.loads(json.dumps(report.rows(), default=_plain)),
    }


def _plain(value):
    """numpy scalars and other stragglers as JSON values."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def codebook_document(project: Project) -> dict:
    """The codebook as the archive keeps it: by names and paths, with the project's slug."""
    return {"project": project.slug, **codebook_data(project, ids=False)}


def _annotator_rows(project: Project):
    """Every annotator's records of settled items (pseudonymised), as JSONL lines."""
    settled = set(
        project_items(project).filter(state=Item.State.SETTLED).values_list("pk", flat=True)
    )
    for record in iter_records(project, "all"):
        if record["source"] != "final" and record["item"] in settled:
            yield json.dumps(record, ensure_ascii=False) + "\n"


def next_version(project: Project) -> str:
    versions = project_releases(project).values_list("version", flat=True)
    numbers = [int(v) for v in versions if v.isdigit()]
    return str(max(numbers, default=0) + 1)


def _readme(project, version, title, counts, created_at) -> str:
    lines = [
        f"# {project.name} — release {version}",
        "",
        title or "",
        "",
        f"Created {created_at:%Y-%m-%d %H:%M} UTC with codebook version "
        f"{project.codebook_version}.",
        "",
        "## Counts",
        "",
        f"- final failure records: {counts['final_records']}",
        f"- settled items: {counts['settled_items']}",
        f"- items in the project: {counts['items']}",
        f"- repositories: {counts['repositories']}, groups: {counts['groups']}",
        f"- annotator records of settled items: {counts['annotator_records']} "
        f"by {counts['annotators']} annotators",
        "",
        "## Files",
        "",
        "- `final.olf.json`: final labels in the study's record format (olf)",
        "- `final.jsonl`, `final.csv`: final labels with provenance, one line per failure record",
        "- `annotations.jsonl`: every annotator's labels of settled items; annotators appear "
        "only as stable pseudonyms (`annotator-…`)",
        "- `codebook.json`: dimensions and category trees, with the codebook version",
        "- `agreement.json`: agreement statistics per dimension and level",
        "- `methods.md`, `methods.tex`: the reliability and procedure section of a paper "
        "(GRRAS), as of this release",
        "- `huggingface/`: a Hugging Face dataset folder (Parquet files of the final labels "
        "and of the pseudonymised annotations, and a dataset card); "
        '`datasets.load_dataset("huggingface", "final")` loads it',
        "- `CITATION.cff`, `.zenodo.json`: how to cite the dataset, and the metadata Zenodo "
        "reads when it is deposited",
        "- `manifest.json`: SHA-256 of every file above",
        "",
    ]
    return "\n".join(lines)


def build_archive(project: Project, version: str, title: str) -> tuple[bytes, dict]:
    """The release zip's bytes and its counts."""
    created_at = timezone.now()
    files: dict[str, bytes] = {}
    for name, fmt in (("final.olf.json", "olf"), ("final.jsonl", "jsonl"), ("final.csv", "csv")):
        files[name] = "".join(stream_export(project, fmt, "final")).encode()
    annotations = "".join(_annotator_rows(project))
    files["annotations.jsonl"] = annotations.encode()
    files["codebook.json"] = json.dumps(codebook_document(project), indent=2).encode()
    agreement = agreement_document(project)
    files["agreement.json"] = json.dumps(agreement, indent=2).encode()
    facts = _pseudonymised(project, methods_facts(project))
    files["methods.md"] = methods_markdown(facts).encode()
    files["methods.tex"] = methods_latex(facts).encode()
    annotator_lines = [json.loads(line) for line in annotations.splitlines()]
    dimensions = list(project_dimensions(project))
    files.update(
        hub_files(
            project,
            version,
            created_at,
            columns=export_fields(project, "jsonl", "final", dimensions),
            dimension_columns={field_name(d.key): d.name for d in dimensions},
            final=list(iter_records(project, "final", dimensions)),
            annotations=annotator_lines,
        )
    )
    items = project_items(project)
    counts = {
        "final_records": files["final.jsonl"].count(b"\n"),
        "settled_items": items.filter(state=Item.State.SETTLED).count(),
        "items": items.count(),
        "repositories": items.values("issue__repository").distinct().count(),
        "groups": repository_views_with_items(project).values("group").distinct().count(),
        "annotator_records": len(annotator_lines),
        "annotators": len({r["source"] for r in annotator_lines}),
        "codebook_version": project.codebook_version,
    }
    files["README.md"] = _readme(project, version, title, counts, created_at).encode()
    manifest = {
        "project": project.slug,
        "version": version,
        "created_at": created_at.isoformat(),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(f"{project.slug}-{version}/{name}", ZIP_DATE), data)
    return buffer.getvalue(), counts


@transaction.atomic
def create_release(*, project: Project, user=None, version: str = "", title: str = "") -> Release:
    """Snapshot the project's dataset as release `version` (the next number when empty).

    Releases are immutable: an existing version is an error, never overwritten."""
    version = version or next_version(project)
    if project_releases(project).filter(version=version).exists():
        raise ServiceError(f"Release {version} already exists; releases cannot be changed.")
    data, counts = build_archive(project, version, title)
    release = Release(
        project=project,
        version=version,
        title=title,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        counts=counts,
        created_by=user,
    )
    release.archive.save(f"{project.slug}-{version}.zip", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            release.save()
    except IntegrityError:
        release.archive.delete(save=False)
        raise ServiceError(
            f"Release {version} already exists; releases cannot be changed."
        ) from None
    return release
