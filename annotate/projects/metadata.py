"""What a project says about its dataset when it is published: the license and the authors.

Releases turn these into the files that archives and hubs read (`CITATION.cff`,
`.zenodo.json`, the Hugging Face dataset card: see dataset/hub.py). Authors are kept as
plain data, [{"family", "given", "affiliation", "orcid"}], and edited as one line each:

    Family, Given; Affiliation; 0000-0002-1825-0097

An ORCID iD is checked with its own check digit (ISO 7064 MOD 11-2, as ORCID documents
it), so a mistyped iD is caught before it is published in a citation.
"""

from __future__ import annotations

import re

# SPDX identifiers a dataset is commonly released under, with the identifiers the Hugging
# Face Hub's dataset cards and Zenodo's deposit metadata use for the same license.
LICENSES = {
    "CC-BY-4.0": {"label": "Creative Commons Attribution 4.0", "hub": "cc-by-4.0"},
    "CC-BY-SA-4.0": {
        "label": "Creative Commons Attribution-ShareAlike 4.0",
        "hub": "cc-by-sa-4.0",
    },
    "CC-BY-NC-4.0": {
        "label": "Creative Commons Attribution-NonCommercial 4.0",
        "hub": "cc-by-nc-4.0",
    },
    "CC0-1.0": {"label": "Creative Commons Zero 1.0 (public domain)", "hub": "cc0-1.0"},
    "ODbL-1.0": {"label": "Open Database License 1.0", "hub": "odbl"},
    "MIT": {"label": "MIT License", "hub": "mit"},
    "Apache-2.0": {"label": "Apache License 2.0", "hub": "apache-2.0"},
}
DEFAULT_LICENSE = "CC-BY-4.0"
LICENSE_CHOICES = [(spdx, f"{info['label']} ({spdx})") for spdx, info in LICENSES.items()]

MAX_AUTHORS = 100
_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])$")


class MetadataError(ValueError):
    """Author lines that cannot be published as they are; the message names the line."""


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2 over the first 15 digits gives the 16th (10 is written X)."""
    digits = orcid.replace("-", "")
    total = 0
    for digit in digits[:-1]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def parse_orcid(text: str) -> str:
    """An ORCID iD as its 16-character form, or MetadataError."""
    match = _ORCID.match(text.strip())
    if not match:
        raise MetadataError(f"'{text.strip()}' is not an ORCID iD (0000-0000-0000-0000).")
    orcid = match.group(1)
    if not orcid_checksum_ok(orcid):
        raise MetadataError(f"ORCID iD {orcid} has a wrong check digit; is it mistyped?")
    return orcid


def parse_author(line: str) -> dict[str, str]:
    """One author line, 'Family, Given; Affiliation; ORCID' (the last two optional)."""
    parts = [part.strip() for part in line.split(";")]
    if len(parts) > 3:
        raise MetadataError("has more than three parts separated by ';'.")
    name = parts[0]
    if not name:
        raise MetadataError("has no name before the first ';'.")
    family, _, given = (piece.strip() for piece in name.partition(","))
    if not family:
        raise MetadataError("has no family name before the ','.")
    if any(len(part) > 300 for part in parts):
        raise MetadataError("has a part longer than 300 characters.")
    affiliation = parts[1] if len(parts) > 1 else ""
    orcid = parse_orcid(parts[2]) if len(parts) > 2 and parts[2] else ""
    return {"family": family, "given": given, "affiliation": affiliation, "orcid": orcid}


def parse_authors(text: str) -> list[dict[str, str]]:
    """Every non-empty line as an author; the first bad line raises MetadataError naming it."""
    authors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            authors.append(parse_author(line))
        except MetadataError as error:
            raise MetadataError(f"Author line {number} {error}") from None
    if len(authors) > MAX_AUTHORS:
        raise MetadataError(f"At most {MAX_AUTHORS} authors.")
    return authors


def authors_text(authors: list[dict]) -> str:
    """The editable lines of `authors` (parse_authors reads them back unchanged)."""
    lines = []
    for author in authors:
        name = author["family"] + (f", {author['given']}" if author.get("given") else "")
        parts = [name, author.get("affiliation", ""), author.get("orcid", "")]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        lines.append("; ".join(parts))
    return "\n".join(lines)


def display_name(author: dict) -> str:
    """'Given Family' as a person is named in running text."""
    return " ".join(part for part in (author.get("given"), author["family"]) if part)
