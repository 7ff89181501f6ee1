"""The codebook read into memory, once: `read_codebook` loads a project's dimensions and
categories (two queries) into a `Codebook`, and everything else that needs the codebook
in memory derives from it: the nested trees of pages and the API (`category_tree`,
`codebook_data`), the cached per-version view of labeling and adjudication (`codebook`),
and analysis's category trees (analysis.codebook). A category named by id or by path is
parsed by `category_ref` and looked up by `Codebook.find`."""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from annotate.access import project_categories, project_dimensions
from annotate.models import Category, Dimension, Project

# A process keeps a project's codebook this long under its version (see `codebook`).
CODEBOOK_CACHE_SECONDS = 60
CODEBOOK_CACHE_SIZE = 64
# Ids given as text have at most this many digits: PostgreSQL's bigint has 19.
MAX_ID_DIGITS = 18


class CategoryRef(NamedTuple):
    """A category as a client named it: an id, a full path, or digits that may be either."""

    id: int | None
    path: str | None


class CategoryRefError(ValueError):
    """A value that names no category at all (empty, or a boolean)."""


def category_ref(value) -> CategoryRef:
    """Parse a category given by id (an int, or ASCII digits) or by full path (text).

    Digits may be either an id or the path of a category named by digits, so both are
    kept; which wins is the lookup's business (`Codebook.find`)."""
    if isinstance(value, bool):
        raise CategoryRefError(f"'{value}' is not a category id or path.")
    if isinstance(value, int):
        return CategoryRef(value, None)
    text = str(value or "").strip()
    if not text:
        raise CategoryRefError("A label names no category.")
    # isdigit() alone admits digits int() refuses ('²'): ids are ASCII digits only.
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
    return CategoryRef(int(text) if digits else None, text)


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
    # (dimension id, parent id or None) -> the children in `order`, then name
    children: dict[tuple[int, int | None], list[Category]] = field(init=False)

    def __post_init__(self):
        self.by_key = {d.key: d for d in self.dimensions}
        self.by_id = {c.pk: c for c in self.categories}
        self.by_path = {(c.dimension_id, c.path): c for c in self.categories}
        self.parents = {c.pk: c.parent_id for c in self.categories}
        self.retired = {c.pk for c in self.categories if c.retired}
        self.children = {}
        for category in self.categories:
            key = (category.dimension_id, category.parent_id)
            self.children.setdefault(key, []).append(category)

    def walk(self, dimension_id: int, parent_id: int | None = None) -> Iterator[Category]:
        """The dimension's categories depth first (parents before children, siblings in
        order), retired ones and their subtrees included."""
        for category in self.children.get((dimension_id, parent_id), []):
            yield category
            yield from self.walk(dimension_id, category.pk)

    def tree(self, dimension_id: int, parent_id=None, include_retired: bool = True) -> list:
        """[{"category": c, "children": [...]}] under `parent_id`; without the retired
        categories (and so their subtrees) unless `include_retired`."""
        return [
            {"category": c, "children": self.tree(dimension_id, c.pk, include_retired)}
            for c in self.children.get((dimension_id, parent_id), [])
            if include_retired or not c.retired
        ]

    def lineage(self, category_id: int) -> tuple[int, ...]:
        """The category's ancestors' ids from the root down to the category itself."""
        chain = [category_id]
        while self.parents[chain[0]] is not None:
            chain.insert(0, self.parents[chain[0]])
        return tuple(chain)

    def find(self, dimension_id: int, value, *, id_first: bool = False) -> Category | None:
        """The category `value` names (see `category_ref`) on the dimension; None when it
        names none there. Digits that are both a path on the dimension and an id name the
        path's category, unless `id_first`. Raises CategoryRefError for an empty value."""
        ref = category_ref(value)
        by_id = self.by_id.get(ref.id) if ref.id is not None else None
        by_path = self.by_path.get((dimension_id, ref.path)) if ref.path is not None else None
        category = (by_id or by_path) if id_first else (by_path or by_id)
        if category is None or category.dimension_id != dimension_id:
            return None
        return category


def read_codebook(project) -> Codebook:
    """The project's (or project id's) codebook as the database holds it now: two queries."""
    return Codebook(
        dimensions=list(project_dimensions(project).order_by("order", "key")),
        categories=list(project_categories(project).order_by("order", "name")),
    )


def category_tree(project, include_retired: bool = True) -> list[dict]:
    """The project's dimensions, each with its categories as a nested tree (two queries)."""
    book = read_codebook(project)
    return [
        {"dimension": d, "tree": book.tree(d.pk, include_retired=include_retired)}
        for d in book.dimensions
    ]


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


_codebooks: dict[tuple, tuple[float, Codebook]] = {}


def codebook(project: Project) -> Codebook:
    """The project's codebook: `read_codebook`, then kept in this process for
    CODEBOOK_CACHE_SECONDS under (project, codebook_version).

    Every codebook change (codebook.py, imports) bumps the version, so a change is seen
    by the next request that reads the project; the time limit bounds edits that bypass
    the services (the admin). Callers must not modify what they get."""
    key = (project.pk, project.created_at, project.codebook_version)
    now = time.monotonic()
    cached = _codebooks.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    book = read_codebook(project)
    if len(_codebooks) >= CODEBOOK_CACHE_SIZE:
        _codebooks.clear()
    _codebooks[key] = (now + CODEBOOK_CACHE_SECONDS, book)
    return book
