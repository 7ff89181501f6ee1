"""The codebook read into memory: trees for pages and the API, and a cached per-version
view for labeling and adjudication."""

import time
from collections import defaultdict
from dataclasses import dataclass, field

from annotate.models import Category, Dimension, Project

# A process keeps a project's codebook this long under its version (see `codebook`).
CODEBOOK_CACHE_SECONDS = 60
CODEBOOK_CACHE_SIZE = 64


def category_tree(project, include_retired: bool = True) -> list[dict]:
    """The project's dimensions, each with its categories as a nested tree (two queries)."""
    dimensions = list(project.dimensions.all())
    categories = Category.objects.filter(dimension__project=project).order_by("order", "name")
    if not include_retired:
        categories = categories.filter(retired=False)
    children = defaultdict(list)
    for category in categories:
        children[(category.dimension_id, category.parent_id)].append(category)

    def build(dimension_id, parent_id):
        return [
            {"category": c, "children": build(dimension_id, c.pk)}
            for c in children[(dimension_id, parent_id)]
        ]

    return [{"dimension": d, "tree": build(d.pk, None)} for d in dimensions]


def codebook_data(project, *, ids: bool = True) -> dict:
    """The project's codebook as plain data (API replies, release archives): its version,
    the annotators' guidelines (Markdown) and each dimension with its category tree; `ids`
    adds database ids for API clients."""

    def node(entry):
        c = entry["category"]
        data = {"id": c.pk, "name": c.name, "path": c.path, "depth": c.depth}
        data |= {"description": c.description, "examples": c.examples, "retired": c.retired}
        data["children"] = [node(child) for child in entry["children"]]
        if not ids:
            del data["id"]
        return data

    dimensions = []
    for d in category_tree(project):
        dimension = d["dimension"]
        entry = {"id": dimension.pk, "key": dimension.key, "name": dimension.name}
        entry |= {"description": dimension.description, "required": dimension.required}
        entry["categories"] = [node(e) for e in d["tree"]]
        if not ids:
            del entry["id"]
        dimensions.append(entry)
    return {
        "version": project.codebook_version,
        "guidelines": project.guidelines,
        "dimensions": dimensions,
    }


@dataclass
class Codebook:
    """A project's dimensions and categories at one codebook version, with lookups."""

    dimensions: list[Dimension]  # in display order
    categories: list[Category]  # retired ones too, by `order` then name
    by_key: dict[str, Dimension] = field(init=False)
    by_id: dict[int, Category] = field(init=False)
    by_path: dict[tuple[int, str], Category] = field(init=False)
    parents: dict[int, int | None] = field(init=False)
    retired: set[int] = field(init=False)

    def __post_init__(self):
        self.by_key = {d.key: d for d in self.dimensions}
        self.by_id = {c.pk: c for c in self.categories}
        self.by_path = {(c.dimension_id, c.path): c for c in self.categories}
        self.parents = {c.pk: c.parent_id for c in self.categories}
        self.retired = {c.pk for c in self.categories if c.retired}


_codebooks: dict[tuple, tuple[float, Codebook]] = {}


def codebook(project: Project) -> Codebook:
    """The project's codebook: two queries, then kept in this process for
    CODEBOOK_CACHE_SECONDS under (project, codebook_version).

    Every codebook change (codebook.py, imports) bumps the version, so a change is seen
    by the next request that reads the project; the time limit bounds edits that bypass
    the services (the admin). Callers must not modify what they get."""
    key = (project.pk, project.created_at, project.codebook_version)
    now = time.monotonic()
    cached = _codebooks.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    book = Codebook(
        dimensions=list(Dimension.objects.filter(project=project).order_by("order", "key")),
        categories=list(
            Category.objects.filter(dimension__project=project).order_by("order", "name")
        ),
    )
    if len(_codebooks) >= CODEBOOK_CACHE_SIZE:
        _codebooks.clear()
    _codebooks[key] = (now + CODEBOOK_CACHE_SECONDS, book)
    return book
