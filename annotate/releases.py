"""Releases: versioned, immutable zip snapshots of a project's dataset that researchers cite.

A release holds the final labels (olf, JSONL, CSV), every annotator's labels of settled items
under stable pseudonyms (JSONL), the codebook with its version (JSON), an agreement report
(JSON), a README with counts and a manifest with the SHA-256 of every file.

The agreement report is computed here (percent agreement and Cohen's kappa per dimension and
level, over the first two annotators of each double-labeled settled item, failure records
matched by index) until the analysis app offers a shared implementation.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import defaultdict
from itertools import groupby

import numpy as np
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from statsmodels.stats.inter_rater import cohens_kappa

from .exporting import iter_records, stream_export
from .models import PATH_SEPARATOR, AnnotationLabel, Item, Project, Release
from .queries import category_tree
from .services import ServiceError

ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: the same data gives the same bytes


def agreement_report(pairs: dict[str, list[tuple[str, str]]]) -> dict:
    """Per dimension and level: percent agreement and Cohen's kappa of paired paths.

    `pairs` maps a dimension key to (path of rater 1, path of rater 2) tuples, paths as
    ' > '-joined category paths. Pure: no database."""
    report = {}
    for key, rows in pairs.items():
        depth = max((len(p.split(PATH_SEPARATOR)) for row in rows for p in row), default=0)
        levels = []
        for level in range(1, depth + 1):
            cut = [(_ancestor(a, level), _ancestor(b, level)) for a, b in rows]
            levels.append({"level": level, **_agreement(cut)})
        report[key] = {"pairs": len(rows), **_agreement(rows), "levels": levels}
    return report


def _ancestor(path: str, level: int) -> str:
    return PATH_SEPARATOR.join(path.split(PATH_SEPARATOR)[:level])


def _agreement(rows) -> dict:
    if not rows:
        return {"percent_agreement": None, "cohens_kappa": None}
    agree = sum(a == b for a, b in rows) / len(rows)
    labels = sorted({x for row in rows for x in row})
    if len(labels) < 2:
        # One category used by both raters throughout: kappa is undefined.
        return {"percent_agreement": round(100 * agree, 2), "cohens_kappa": None}
    index = {label: i for i, label in enumerate(labels)}
    table = np.zeros((len(labels), len(labels)))
    for a, b in rows:
        table[index[a], index[b]] += 1
    kappa = float(cohens_kappa(table, return_results=False))
    return {"percent_agreement": round(100 * agree, 2), "cohens_kappa": round(kappa, 4)}


def annotation_pairs(project: Project) -> dict[str, list[tuple[str, str]]]:
    """Paired category paths of the first two annotators of each settled item."""
    rows = (
        AnnotationLabel.objects.filter(item__project=project, item__state=Item.State.SETTLED)
        .order_by("item_id", "annotator_id", "record")
        .values_list("item_id", "annotator_id", "record", "dimension__key", "category__path")
    )
    pairs: dict[str, list] = defaultdict(list)
    for _, item_rows in groupby(rows.iterator(chunk_size=2000), key=lambda r: r[0]):
        by_annotator: dict[int, dict] = {}
        for _, annotator, record, key, path in item_rows:
            by_annotator.setdefault(annotator, {})[(record, key)] = path
        if len(by_annotator) < 2:
            continue
        first, second = list(by_annotator.values())[:2]
        for slot in sorted(first.keys() & second.keys()):
            pairs[slot[1]].append((first[slot], second[slot]))
    return dict(pairs)


def codebook_document(project: Project) -> dict:
    def node(entry):
        c = entry["category"]
        return {
            "name": c.name,
            "path": c.path,
            "description": c.description,
            "examples": c.examples,
            "retired": c.retired,
            "children": [node(child) for child in entry["children"]],
        }

    return {
        "project": project.slug,
        "version": project.codebook_version,
        "dimensions": [
            {
                "key": d["dimension"].key,
                "name": d["dimension"].name,
                "description": d["dimension"].description,
                "required": d["dimension"].required,
                "categories": [node(e) for e in d["tree"]],
            }
            for d in category_tree(project)
        ],
    }


def _annotator_rows(project: Project):
    """Every annotator's records of settled items (pseudonymised), as JSONL lines."""
    settled = set(
        Item.objects.filter(project=project, state=Item.State.SETTLED).values_list("pk", flat=True)
    )
    for record in iter_records(project, "all"):
        if record["source"] != "final" and record["item"] in settled:
            yield json.dumps(record, ensure_ascii=False) + "\n"


def next_version(project: Project) -> str:
    numbers = [int(v) for v in project.releases.values_list("version", flat=True) if v.isdigit()]
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
        "- `agreement.json`: percent agreement and Cohen's kappa per dimension and level",
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
    agreement = {
        "method": "percent agreement and Cohen's kappa (statsmodels) per dimension and level, "
        "first two annotators of each settled item, failure records matched by index",
        "dimensions": agreement_report(annotation_pairs(project)),
    }
    files["agreement.json"] = json.dumps(agreement, indent=2).encode()
    annotator_lines = [json.loads(line) for line in annotations.splitlines()]
    items = Item.objects.filter(project=project)
    counts = {
        "final_records": files["final.jsonl"].count(b"\n"),
        "settled_items": items.filter(state=Item.State.SETTLED).count(),
        "items": items.count(),
        "repositories": items.values("issue__repository").distinct().count(),
        "groups": items.values("issue__repository__group").distinct().count(),
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
    if project.releases.filter(version=version).exists():
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
