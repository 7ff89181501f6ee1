"""A release as others load it: a Hugging Face dataset folder, CITATION.cff and .zenodo.json.

Every release zip holds, beside its olf/JSONL/CSV files:

- `huggingface/`: a dataset folder that `datasets.load_dataset(folder, "final")` loads
  (tested) and that `manage.py publish_release --to huggingface` uploads as it is:
  `data/final-00000-of-00001.parquet` (one row per final failure record, the export's
  columns), `data/annotations-00000-of-00001.parquet` (every annotator's records of
  settled items under the release's stable pseudonyms) and `README.md`, the dataset card
  with the Hub's YAML metadata (license, task categories, size category, configs) and a
  citation.
- `CITATION.cff` (Citation File Format 1.2.0) and `.zenodo.json` (Zenodo's deposit
  metadata), from the project's name, description, license and authors
  (annotate.projects.metadata).

Parquet is written with pyarrow, with a fixed schema (numbers as int64, out_of_scope and
fixed as bool, time_to_fix as float64 days, fixes as a list of structs, everything else
text), so an empty column keeps its type.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from annotate.models import Project
from annotate.projects.metadata import DEFAULT_LICENSE, LICENSES, display_name

HUB_FOLDER = "huggingface"
INTEGER_COLUMNS = {"number", "issue", "item", "record", "codebook_version"}
BOOLEAN_COLUMNS = {"out_of_scope", "fixed"}
FLOAT_COLUMNS = {"time_to_fix"}
# A fix link (dataset/fixes.py), typed so that an empty list keeps its shape.
FIX_LINK = pa.struct(
    [
        *[(name, pa.string()) for name in ("kind", "ref", "url", "title", "state")],
        ("merged", pa.bool_()),
        ("merged_at", pa.string()),
        *[(name, pa.int64()) for name in ("files_changed", "additions", "deletions")],
    ]
)
LIST_COLUMNS = {"fixes": pa.list_(FIX_LINK)}
KEYWORDS = ["software failures", "github issues", "failure taxonomy", "empirical study"]
# The Hub's size categories, by number of rows (the card's `size_categories`).
SIZE_CATEGORIES = [
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
]


def size_category(rows: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if rows < limit:
            return name
    return "10M<n<100M"


def _type(column: str) -> pa.DataType:
    if column in INTEGER_COLUMNS:
        return pa.int64()
    if column in BOOLEAN_COLUMNS:
        return pa.bool_()
    if column in FLOAT_COLUMNS:
        return pa.float64()
    return LIST_COLUMNS.get(column, pa.string())


def parquet_bytes(records: Iterable[dict], columns: list[str]) -> bytes:
    """`records` (export dicts) as one Parquet file with `columns` in that order."""
    schema = pa.schema([(column, _type(column)) for column in columns])
    rows = list(records)
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def _license(project: Project) -> str:
    return project.license if project.license in LICENSES else DEFAULT_LICENSE


def _creators(project: Project) -> list[dict]:
    """The authors, or the project itself as the one author when none are set."""
    return list(project.authors or []) or [{"entity": project.name}]


def citation_cff(project: Project, version: str, released: datetime) -> str:
    """CITATION.cff (format 1.2.0) for the release."""
    authors = []
    for creator in _creators(project):
        if "entity" in creator:
            authors.append({"name": creator["entity"]})
            continue
        author = {"family-names": creator["family"]}
        if creator.get("given"):
            author["given-names"] = creator["given"]
        if creator.get("affiliation"):
            author["affiliation"] = creator["affiliation"]
        if creator.get("orcid"):
            author["orcid"] = f"https://orcid.org/{creator['orcid']}"
        authors.append(author)
    document = {
        "cff-version": "1.2.0",
        "message": "If you use this dataset, please cite it as below.",
        "type": "dataset",
        "title": project.name,
        "version": str(version),
        "date-released": released.date().isoformat(),
        "license": _license(project),
        "authors": authors,
        "keywords": KEYWORDS,
    }
    if project.description.strip():
        document["abstract"] = project.description.strip()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def zenodo_json(project: Project, version: str, released: datetime) -> str:
    """.zenodo.json: what Zenodo reads when the release is deposited (legacy deposit API)."""
    creators = []
    for creator in _creators(project):
        if "entity" in creator:
            creators.append({"name": creator["entity"]})
            continue
        name = creator["family"] + (f", {creator['given']}" if creator.get("given") else "")
        entry = {"name": name}
        if creator.get("affiliation"):
            entry["affiliation"] = creator["affiliation"]
        if creator.get("orcid"):
            entry["orcid"] = creator["orcid"]
        creators.append(entry)
    description = project.description.strip() or f"Release {version} of {project.name}."
    document = {
        "title": f"{project.name} (release {version})",
        "upload_type": "dataset",
        "description": f"<p>{html.escape(description)}</p>",
        "creators": creators,
        # Zenodo names licenses by their SPDX identifier in lower case ("odbl-1.0"), where
        # the Hub has its own short names ("odbl").
        "license": _license(project).lower(),
        "access_right": "open",
        "version": str(version),
        "publication_date": released.date().isoformat(),
        "keywords": KEYWORDS,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# BibTeX counts every brace, escaped or not, so a brace in a value is written as a command
# without braces of its own; LaTeX's other special characters are escaped.
_TEX_SPECIAL = {
    "\\": r"\textbackslash ",
    "{": r"\textbraceleft ",
    "}": r"\textbraceright ",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde ",
    "^": r"\textasciicircum ",
}
# BibTeX splits a name list at the word "and" (any case) outside braces.
_BIBTEX_AND = re.compile(r"(?i)(?<=\s)and(?=\s)")


def _tex(text: str) -> str:
    """`text` as one line of a brace-delimited BibTeX value: balanced whatever it holds."""
    text = " ".join(str(text).split())
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _bibtex_name(creator: dict) -> str:
    """One author of the name list: an organisation braced whole (one name, never split or
    abbreviated), a person as 'Family, Given' with a stray 'and' braced."""
    if "entity" in creator:
        return "{" + _tex(creator["entity"]) + "}"
    name = _tex(creator["family"]) + (f", {_tex(creator['given'])}" if creator.get("given") else "")
    return _BIBTEX_AND.sub(lambda match: "{" + match.group(0) + "}", name)


def _bibtex(project: Project, version: str, released: datetime) -> str:
    names = " and ".join(_bibtex_name(creator) for creator in _creators(project))
    key = re.sub(r"[^A-Za-z0-9_.:-]", "_", project.slug.replace("-", "_") + f"_v{version}")
    return "\n".join(
        [
            f"@misc{{{key},",
            f"  title = {{{{{_tex(project.name)}}}, release {_tex(version)}}},",
            f"  author = {{{names}}},",
            f"  year = {{{released.year}}},",
            f"  note = {{Dataset, {LICENSES[_license(project)]['label']}}}",
            "}",
        ]
    )


def dataset_card(
    project: Project,
    version: str,
    released: datetime,
    *,
    columns: list[str],
    dimension_columns: dict[str, str],
    rows: dict[str, int],
) -> str:
    """The Hub's README.md: YAML metadata, then what the data is and how to load it."""
    configs = [
        {
            "config_name": name,
            **({"default": True} if name == "final" else {}),
            "data_files": [{"split": "train", "path": f"data/{name}-*.parquet"}],
        }
        for name in rows
    ]
    metadata = {
        "license": LICENSES[_license(project)]["hub"],
        "pretty_name": project.name,
        "language": ["en"],
        "task_categories": ["text-classification"],
        "tags": ["software-engineering", "failure-analysis", "github-issues"],
        "size_categories": [size_category(max(rows.values(), default=0))],
        "configs": configs,
    }
    authors = ", ".join(
        creator.get("entity") or display_name(creator) for creator in _creators(project)
    )
    lines = [
        "---",
        yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        # One line whatever the name holds: a line break would end the heading.
        f"# {' '.join(project.name.split())} (release {version})",
        "",
        project.description.strip() or "A labeled dataset of software failures.",
        "",
        f"By {' '.join(authors.split())}. Released {released:%Y-%m-%d} under {_license(project)}.",
        "",
        "## Load it",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'final = load_dataset("<this folder or its Hub id>", "final")["train"]',
    ]
    if "annotations" in rows:
        lines.append('annotations = load_dataset("<this folder or its Hub id>", "annotations")')
    lines += [
        "```",
        "",
        "## Configurations",
        "",
        f"- `final` ({rows.get('final', 0)} rows): one row per failure record as the "
        "project settled it.",
    ]
    if "annotations" in rows:
        lines.append(
            f"- `annotations` ({rows['annotations']} rows): every annotator's records of "
            "settled items; annotators appear only as stable pseudonyms in `source`."
        )
    lines += ["", "## Columns", ""]
    for column in columns:
        meaning = dimension_columns.get(column)
        lines.append(f"- `{column}`" + (f": the {meaning} category path" if meaning else ""))
    lines += ["", "## Citation", "", "```bibtex", _bibtex(project, version, released), "```", ""]
    return "\n".join(lines)


def hub_files(
    project: Project,
    version: str,
    released: datetime,
    *,
    columns: list[str],
    dimension_columns: dict[str, str],
    final: list[dict],
    annotations: list[dict],
) -> dict[str, bytes]:
    """The release's Hugging Face folder and citation files, by path inside the release."""
    tables = {"final": final}
    if annotations:
        tables["annotations"] = annotations
    files = {
        f"{HUB_FOLDER}/data/{name}-00000-of-00001.parquet": parquet_bytes(records, columns)
        for name, records in tables.items()
    }
    rows = {name: len(records) for name, records in tables.items()}
    card = dataset_card(
        project,
        version,
        released,
        columns=columns,
        dimension_columns=dimension_columns,
        rows=rows,
    )
    citation = citation_cff(project, version, released).encode()
    files[f"{HUB_FOLDER}/README.md"] = card.encode()
    files[f"{HUB_FOLDER}/CITATION.cff"] = citation
    files["CITATION.cff"] = citation
    files[".zenodo.json"] = zenodo_json(project, version, released).encode()
    return files
