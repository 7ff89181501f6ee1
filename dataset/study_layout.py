"""The study's own layout: final labels written back as the study's repository holds them.

The study (Open-LLM-Failures) publishes one olf file per model under a folder per group
(`DeepSeek/V3 /DeepSeek-V3.json`, folder names with their trailing spaces), each a JSON list
numbered from 1. Its analysis scripts walk that tree, so an export in the same layout lets
them run unchanged on a project's data.

Imports keep each failure record's origin on its item (`metadata["origin"]`: [file inside
the imported folder, the record's `number` there], one per record: dataset/importing.py).
`write_study_layout` puts every final record back in its file at its number; records
without an origin (mined and labeled here) go to `GROUP/MODEL/MODEL.json` (the project's
group of the repository, the item's `model` metadata or else the repository's name), after
the file's numbered records. A round trip of the study's files returns the same records in
the same files and order, byte for byte (the files are written as the study's are:
`json.dumps(records, indent=2, ensure_ascii=False)` and a newline).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path, PurePosixPath

from annotate.access import project_dimensions, project_items
from annotate.models import Project
from dataset.exporting import iter_records
from dataset.formats import join_path, olf_fields, split_path

UNGROUPED = "ungrouped"


def safe_relative(path: str) -> PurePosixPath | None:
    """`path` as a relative path that stays inside the output folder, or None."""
    if not isinstance(path, str) or not path or "\x00" in path or "\\" in path:
        return None
    relative = PurePosixPath(path)
    if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
        return None
    if not relative.name.endswith(".json"):
        return None
    return relative


def _part(name: str) -> str:
    """A folder or file name from data: no separators, never '.' or '..'."""
    cleaned = "".join("-" if ch in "/\\\x00" else ch for ch in name).strip(".") or "unnamed"
    return cleaned[:100]


def _default_file(record: dict) -> PurePosixPath:
    model = record.get("model") or record["repository"].split("/", 1)[1]
    group = record.get("group") or UNGROUPED
    return PurePosixPath(_part(group), _part(model), _part(model) + ".json")


def _respell(row: dict, spelled: dict) -> None:
    """Category values as the imported file spelled them, where they still say the same."""
    for name, value in spelled.items():
        if not isinstance(value, str) or row.get(name) is None:
            continue
        try:
            same = join_path(split_path(value)) == row[name]
        except ValueError:
            continue
        if same:
            row[name] = value


def layout_files(project: Project) -> dict[PurePosixPath, list[dict]]:
    """{relative file: its olf records in order}, from the project's final labels."""
    dimensions = list(project_dimensions(project))
    fields = olf_fields([d.key for d in dimensions], extra=False)
    origins = dict(
        project_items(project)
        .filter(metadata__has_key="origin")
        .values_list("pk", "metadata__origin")
    )
    numbered: dict[PurePosixPath, list[tuple[int, int, dict]]] = defaultdict(list)
    unnumbered: dict[PurePosixPath, list[dict]] = defaultdict(list)
    for order, record in enumerate(iter_records(project, "final", dimensions)):
        kept = origins.get(record["item"]) or []
        origin = kept[record["record"]] if record["record"] < len(kept) else None
        row = {name: record.get(name) for name in fields}
        valid = isinstance(origin, list) and len(origin) in (2, 3)
        file = safe_relative(origin[0]) if valid else None
        if file is not None and len(origin) == 3 and isinstance(origin[2], dict):
            _respell(row, origin[2])
        if file is not None and isinstance(origin[1], int):
            row["number"] = origin[1]
            numbered[file].append((origin[1], order, row))
        else:
            unnumbered[file or _default_file(record)].append(row)
    files: dict[PurePosixPath, list[dict]] = {}
    for file in sorted(set(numbered) | set(unnumbered), key=str):
        rows = [row for _, _, row in sorted(numbered.get(file, []), key=lambda x: x[:2])]
        top = max((row["number"] for row in rows), default=0)
        for offset, row in enumerate(unnumbered.get(file, []), start=1):
            row["number"] = top + offset
            rows.append(row)
        files[file] = rows
    return files


def write_study_layout(project: Project, folder: Path) -> list[Path]:
    """Write the project's final labels under `folder` in the study's layout; the files."""
    written = []
    for relative, rows in layout_files(project).items():
        target = folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        # As the study's files are written: indented by 2, UTF-8 as is, a final newline.
        target.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written
