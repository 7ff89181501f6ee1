"""Group rules of an import: which group (the RQ4 series: "DeepSeek", "Llama", "Qwen") each
repository the files link to gets in the project. Pure Python, no Django.

A rule has a base, applied to the repositories new to the project:

- ``owner`` (the default): the GitHub owner as the links write it (``deepseek-ai``,
  ``meta-llama``, ``QwenLM``: the study's three groups);
- ``family``: the model family the owner's repositories are named after: the word of the
  owner's name that its repositories' names begin with, as a repository writes it
  (``deepseek-ai`` -> ``DeepSeek``, ``meta-llama`` -> ``Llama``, ``QwenLM`` -> ``Qwen``);
  an owner whose repositories begin with none of its words keeps the owner's name;
- any other text: that one group name for every new repository (``name:TEXT`` for a name
  that contains a colon or spells a rule).

and a map, ``OWNER/NAME=GROUP`` entries (separated by commas or new lines, or a JSON
object), which names the group of those repositories, new or not: a map says what the
person importing wants for exactly those. A map entry must name a repository the files
link to; anything malformed is a GroupRuleError naming the entry.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

MAX_GROUP = 100  # ProjectRepository.group
BASES = ("owner", "family")
REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
RULE_HELP = "use owner, family, or a group name (name:NAME for a name with a colon)"


class GroupRuleError(ValueError):
    """A group rule or map the import cannot use; the message names the problem."""


@dataclass(frozen=True)
class GroupRule:
    base: str = "owner"  # "owner", "family" or "name"
    name: str = ""  # the group of every new repository, for base "name"
    mapping: dict = field(default_factory=dict)  # "owner/name" (lower case) -> group
    written: dict = field(default_factory=dict)  # "owner/name" (lower case) -> as written

    @property
    def text(self) -> str:
        """The base as ImportJob.group stores it (parse_rule reads it back)."""
        if self.base != "name":
            return self.base
        clash = ":" in self.name or self.name.lower() in BASES
        return f"name:{self.name}" if clash else self.name

    def describe(self) -> str:
        """The rule in words, for pages and the audit trail."""
        base = {
            "owner": "by owner",
            "family": "by model family",
            "name": f"all in “{self.name}”",
        }[self.base]
        if self.mapping:
            pairs = ", ".join(f"{self.written[k]} → {v}" for k, v in sorted(self.mapping.items()))
            base += f"; mapped: {pairs}"
        return base

    def assign(self, repositories) -> dict[tuple[str, str], str]:
        """{(owner, name): group} for every repository named, as the links write it. A map
        entry that names none of them is a GroupRuleError."""
        repositories = sorted(set(repositories))
        present = {f"{owner}/{name}".lower() for owner, name in repositories}
        strangers = [self.written[key] for key in sorted(self.mapping) if key not in present]
        if strangers:
            raise GroupRuleError(
                "The group map names repositories no record of the files links to: "
                f"{', '.join(strangers)}. Fix the map (OWNER/NAME as in the links) or the files."
            )
        families: dict[str, str] = {}
        if self.base == "family":
            by_owner: dict[str, list[str]] = {}
            for owner, name in repositories:
                by_owner.setdefault(owner, []).append(name)
            families = {owner: family_of(owner, names) for owner, names in by_owner.items()}
        groups = {}
        for owner, name in repositories:
            mapped = self.mapping.get(f"{owner}/{name}".lower())
            if mapped is not None:
                groups[(owner, name)] = mapped
            elif self.base == "name":
                groups[(owner, name)] = self.name
            elif self.base == "family":
                groups[(owner, name)] = families[owner]
            else:
                groups[(owner, name)] = owner
        return groups

    def mapped(self, owner: str, name: str) -> bool:
        return f"{owner}/{name}".lower() in self.mapping


def parse_rule(text: str | None) -> tuple[str, str]:
    """(base, name) from ``--group``: owner (also when empty), family, or a group name."""
    text = (text or "").strip()
    if not text or text.lower() == "owner":
        return "owner", ""
    if text.lower() == "family":
        return "family", ""
    if ":" in text:
        kind, _, rest = text.partition(":")
        if kind.strip().lower() != "name":
            raise GroupRuleError(f"Unknown group rule '{text}': {RULE_HELP}.")
        text = rest.strip()
        if not text:
            raise GroupRuleError(f"The group rule 'name:' names no group: {RULE_HELP}.")
    _check_group(text, "The group name")
    return "name", text


def parse_map(text: str | None) -> tuple[dict, dict]:
    """({"owner/name" lower case: group}, {"owner/name" lower case: as written}) from a
    map: ``OWNER/NAME=GROUP`` entries separated by commas or new lines (``#`` starts a
    comment line), or a JSON object of the same pairs. Empty: no map."""
    text = (text or "").strip()
    if not text:
        return {}, {}
    if text.startswith("{"):
        try:
            pairs = json.loads(text)
        except ValueError as error:
            raise GroupRuleError(f"The group map is not valid JSON: {error}.") from None
        if not all(isinstance(v, str) for v in pairs.values()):
            raise GroupRuleError("The group map's JSON values must be group names (text).")
        entries = [(f"{k}={v}", k, v) for k, v in pairs.items()]
    else:
        lines = [line for line in text.splitlines() if not line.strip().startswith("#")]
        raw = [part.strip() for line in lines for part in line.split(",")]
        entries = []
        for entry in filter(None, raw):
            repository, equals, group = entry.partition("=")
            if not equals:
                raise GroupRuleError(f"Group map entry '{entry}' is not OWNER/NAME=GROUP (no '=').")
            entries.append((entry, repository, group))
    mapping, written = {}, {}
    for entry, repository, group in entries:
        repository, group = repository.strip(), group.strip()
        if not REPOSITORY.match(repository):
            raise GroupRuleError(
                f"Group map entry '{entry}': '{repository}' is not a repository (OWNER/NAME)."
            )
        _check_group(group, f"Group map entry '{entry}': the group")
        key = repository.lower()
        if mapping.get(key, group) != group:
            raise GroupRuleError(
                f"The group map gives {repository} two groups: '{mapping[key]}' and '{group}'."
            )
        mapping[key], written[key] = group, repository
    return mapping, written


def make_rule(group: str | None = None, group_map: str | dict | None = None) -> GroupRule:
    """The rule of ``--group`` and a map (its text, or a {"OWNER/NAME": group} dict as
    ImportJob.group_map stores it). GroupRuleError when either is unusable."""
    base, name = parse_rule(group)
    if isinstance(group_map, dict):
        group_map = json.dumps(group_map) if group_map else ""
    mapping, written = parse_map(group_map)
    return GroupRule(base=base, name=name, mapping=mapping, written=written)


def stored_map(rule: GroupRule) -> dict:
    """The rule's map as ImportJob.group_map keeps it: {"OWNER/NAME" as written: group}."""
    return {rule.written[key]: group for key, group in sorted(rule.mapping.items())}


def family_of(owner: str, names) -> str:
    """The model family `owner`'s repositories (`names`) are named after: the word of the
    owner's name (split at '-', '_', '.' and case changes) that most of them begin with,
    cased as a repository writes it (capitalized when that is all lower case); the owner's
    name when none begins with one of its words."""
    words = [w for w in WORD.findall(owner) if len(w) >= 3]
    found: Counter = Counter()
    for name in sorted(names):
        for word in words:
            if name.lower().startswith(word.lower()):
                family = name[: len(word)]
                found[family[0].upper() + family[1:] if family.islower() else family] += 1
                break
    if not found:
        return owner
    return sorted(found.items(), key=lambda pair: (-pair[1], pair[0]))[0][0]


def _check_group(group: str, what: str) -> None:
    if not group:
        raise GroupRuleError(f"{what} is empty.")
    if len(group) > MAX_GROUP:
        raise GroupRuleError(f"{what} is longer than {MAX_GROUP} characters.")
