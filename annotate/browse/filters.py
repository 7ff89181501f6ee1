"""The item browser's query string, read and checked: every parameter either names
something the caller may filter by or fails with a BrowseError that says what was wrong
and, where the valid values are few, offers them as links."""

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from annotate.access import (
    MANAGERS,
    all_repository_views,
    find_annotator,
    has_role,
    names_hidden_from,
    project_categories,
    project_items,
    project_members,
    pseudonym,
)
from annotate.browse.search import MAX_LENGTH
from annotate.labeling.shown import SUBMITTED
from annotate.models import Item, Membership, Project, Role

PARAMS = ("q", "state", "repository", "group", "annotator", "category", "labeled", "batch")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_VALUE = 200


class BrowseError(ValueError):
    """A parameter the browser refuses: `message` names it; `choices` are (label, url)."""

    def __init__(self, message: str, choices=(), hint: str = ""):
        super().__init__(message)
        self.choices = list(choices)
        self.hint = hint


def state_choices(membership: Membership) -> list[tuple[str, str]]:
    """The states the caller may filter by: leads and owners the item's own; annotators
    what they are shown (an item in conflict is "submitted by you" to them)."""
    if has_role(membership, MANAGERS):
        return list(Item.State.choices)
    hidden = {Item.State.CONFLICT}
    shown = [(key, label) for key, label in Item.State.choices if key not in hidden]
    return [shown[0], (SUBMITTED, "submitted by you, not settled yet"), *shown[1:]]


@dataclass
class Choices:
    """What the filter form offers the caller (read once per page)."""

    states: list
    repositories: list  # "owner/name"
    groups: list
    batches: list
    categories: list  # Category rows, dimension loaded, in dimension then path order
    annotators: list = field(default_factory=list)  # (value, shown name); managers only


def read_choices(project: Project, membership: Membership) -> Choices:
    views = all_repository_views(project).select_related("repository")
    views = list(views.order_by("repository__owner", "repository__name"))
    batches = (
        project_items(project)
        .filter(calibration=True)
        .exclude(batch="")
        .values_list("batch", flat=True)
        .order_by("batch")
        .distinct()
    )
    categories = project_categories(project).select_related("dimension")
    annotators = []
    if has_role(membership, MANAGERS):
        hidden = names_hidden_from(project, membership)
        members = project_members(project).filter(role=Role.ANNOTATOR).select_related("user")
        for member in members.order_by("user__username"):
            name = member.user.username
            if hidden and member.user_id != membership.user_id:
                name = pseudonym(project.pk, member.user_id)
            annotators.append((name, name))
    return Choices(
        states=state_choices(membership),
        repositories=sorted({v.repository.full_name for v in views}),
        groups=sorted({v.group for v in views if v.group}),
        batches=list(batches),
        categories=list(categories.order_by("dimension__order", "path")),
        annotators=annotators,
    )


@dataclass
class Filters:
    q: str = ""
    state: str = ""
    repository: str = ""
    group: str = ""
    annotator: object = None  # a User
    category: object = None  # a Category: the final label's, at or below it
    labeled: object = None  # a Category: an annotator's label, at or below it (managers)
    batch: str = ""
    values: dict = field(default_factory=dict)  # the accepted raw values, for links

    @property
    def any(self) -> bool:
        return bool(self.values)


def _link(base: str, values: dict, **changed) -> str:
    merged = {k: v for k, v in {**values, **changed}.items() if v}
    return f"{base}?{urlencode(merged)}" if merged else base


def _text(params, name: str, limit: int = MAX_VALUE) -> str:
    value = params.get(name, "").strip()
    if CONTROL.search(value):
        raise BrowseError(f"'{name}=' holds a control character; type the value again.")
    if len(value) > limit:
        raise BrowseError(f"'{name}=' is longer than {limit} characters; shorten it.")
    return value


def _one_of(name, value, valid, labels, base, values, what):
    if value and value not in valid:
        choices = [(label, _link(base, values, **{name: key})) for key, label in labels]
        raise BrowseError(
            f"'{value}' is not a {what} of this project.", choices, f"Choose a {what}:"
        )
    return value


def _category(params, name: str, categories: list):
    value = _text(params, name)
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise BrowseError(f"'{name}=' takes a category of the codebook; '{value}' is not one.")
    found = next((c for c in categories if c.pk == int(value)), None)
    if found is None:
        raise BrowseError(f"There is no category {value} in this project's codebook.")
    return found


def parse_filters(params, *, project, membership, choices: Choices, base: str) -> Filters:
    """The filters of the query string `params`, or a BrowseError naming the first bad one.
    `base` is the list's URL (for the links of a BrowseError)."""
    raw = {name: _text(params, name, MAX_LENGTH if name == "q" else MAX_VALUE) for name in PARAMS}
    accepted: dict = {}
    filters = Filters(q=raw["q"])
    if raw["q"]:
        accepted["q"] = raw["q"]
    states = [key for key, _ in choices.states]
    filters.state = _one_of("state", raw["state"], states, choices.states, base, accepted, "state")
    accepted["state"] = filters.state
    repos = [(name, name) for name in choices.repositories]
    filters.repository = _one_of(
        "repository", raw["repository"], choices.repositories, repos, base, accepted, "repository"
    )
    accepted["repository"] = filters.repository
    groups = [(name, name) for name in choices.groups]
    filters.group = _one_of("group", raw["group"], choices.groups, groups, base, accepted, "group")
    accepted["group"] = filters.group
    batches = [(name, name) for name in choices.batches]
    filters.batch = _one_of(
        "batch", raw["batch"], choices.batches, batches, base, accepted, "calibration batch"
    )
    accepted["batch"] = filters.batch
    if raw["annotator"]:
        name = raw["annotator"]
        filters.annotator = _annotator(project, membership, name, choices, base, accepted)
        accepted["annotator"] = raw["annotator"]
    filters.category = _category(params, "category", choices.categories)
    accepted["category"] = raw["category"]
    if raw["labeled"] and not has_role(membership, MANAGERS):
        raise BrowseError(
            "Only leads and owners filter by the annotators' categories ('labeled='); "
            "filter by the final label's category ('category=') instead."
        )
    filters.labeled = _category(params, "labeled", choices.categories)
    accepted["labeled"] = raw["labeled"]
    filters.values = {k: v for k, v in accepted.items() if v}
    return filters


def _annotator(project, membership, name: str, choices: Choices, base: str, values: dict):
    user = find_annotator(project, membership, name)
    if not has_role(membership, MANAGERS):
        if user != membership.user:
            raise BrowseError(
                "Annotators filter only by their own name: the items others labeled are "
                "not shown to you.",
                [("your items", _link(base, values, annotator=membership.user.username))],
            )
        return user
    if user is None:
        links = [(label, _link(base, values, annotator=key)) for key, label in choices.annotators]
        raise BrowseError(f"No annotator of this project is called '{name}'.", links, "Choose:")
    return user
