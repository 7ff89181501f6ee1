"""The SPEC mini-language of cross-tabs and the label source, parsed without Django.

A SPEC names one axis of a cross-tab: ``dim:KEY`` (full category path), ``dim:KEY@LEVEL``
(the ancestor at LEVEL, 1 = top), or an item attribute: ``group``, ``repo``, ``state``,
``year``, ``quarter``, ``meta:NAME``, and the fix's ``fixed`` and ``time_to_fix`` (binned;
analysis/fix_specs.py).
"""

import re
from dataclasses import dataclass

ATTRIBUTES = ("group", "repo", "state", "year", "quarter", "fixed", "time_to_fix")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


class SpecError(ValueError):
    """A SPEC or source that cannot be parsed; the message names the problem."""


@dataclass(frozen=True)
class Spec:
    kind: str  # "dim", "meta" or one of ATTRIBUTES
    key: str = ""
    level: int | None = None

    def __str__(self) -> str:
        if self.kind == "dim":
            return f"dim:{self.key}" + (f"@{self.level}" if self.level else "")
        if self.kind == "meta":
            return f"meta:{self.key}"
        return self.kind


@dataclass(frozen=True)
class Source:
    kind: str  # "final" or "annotator"
    username: str = ""

    def __str__(self) -> str:
        return "final" if self.kind == "final" else f"annotator:{self.username}"


def parse_spec(text: str | None, *, name: str = "spec") -> Spec:
    """Parse one SPEC; ``name`` (e.g. "rows") is used in error messages."""
    raw = (text or "").strip()
    if not raw:
        raise SpecError(f"'{name}' is missing: give a SPEC such as dim:symptom@1 or group.")
    if raw in ATTRIBUTES:
        return Spec(kind=raw)
    prefix, sep, rest = raw.partition(":")
    if not sep or prefix not in ("dim", "meta"):
        choices = ", ".join(["dim:KEY", "dim:KEY@LEVEL", *ATTRIBUTES, "meta:NAME"])
        raise SpecError(f"'{name}={raw}' is not a SPEC; use one of {choices}.")
    if prefix == "meta":
        if not _NAME.match(rest):
            raise SpecError(f"'{name}={raw}': a metadata name is 1-50 letters, digits, '_' or '-'.")
        return Spec(kind="meta", key=rest)
    key, at, level_text = rest.partition("@")
    if not _NAME.match(key):
        raise SpecError(f"'{name}={raw}': a dimension key is 1-50 letters, digits, '_' or '-'.")
    if not at:
        return Spec(kind="dim", key=key)
    if not level_text.isdigit() or int(level_text) < 1:
        raise SpecError(f"'{name}={raw}': the level after '@' must be a whole number from 1.")
    return Spec(kind="dim", key=key, level=int(level_text))


def parse_source(text: str | None) -> Source:
    """``final`` (the default) or ``annotator:USERNAME``."""
    raw = (text or "final").strip()
    if raw == "final":
        return Source(kind="final")
    prefix, sep, username = raw.partition(":")
    if prefix == "annotator" and sep and _USERNAME.match(username):
        return Source(kind="annotator", username=username)
    raise SpecError(f"'source={raw}' is not a source; use final or annotator:USERNAME.")
