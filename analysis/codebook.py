"""A project's category trees as analysis reads them: the category -> ancestor-at-level
map that rolls the database's per-category counts up to any level, derived from annotate's
in-memory codebook (two small queries)."""

from dataclasses import dataclass, field

from annotate.codebook.queries import read_codebook
from annotate.models import Dimension


@dataclass
class DimensionTree:
    dimension: Dimension
    depth: int = 1
    # category id -> tuple of ancestor ids from the root down to the category itself
    lineage: dict[int, tuple[int, ...]] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    sort_keys: dict[int, tuple] = field(default_factory=dict)
    # Retired categories (and merged-away ones, which merging retires): kept, since labels
    # made before the change may still name them, but no longer part of the codebook.
    retired: set[int] = field(default_factory=set)

    def ancestor(self, category_id: int, level: int | None) -> int:
        """The category's ancestor at ``level`` (1 = top; None or deeper = itself)."""
        chain = self.lineage[category_id]
        if level is None or level >= len(chain):
            return chain[-1]
        return chain[level - 1]

    def levels(self) -> list[int]:
        return list(range(1, self.depth + 1))

    def ordered(self, ids) -> list[int]:
        """Category ids in codebook order (depth first, by order then name)."""
        return sorted(set(ids), key=lambda cid: self.sort_keys[cid])


def load_codebook(project) -> dict[str, DimensionTree]:
    """Every dimension of ``project`` keyed by its key, in codebook order: the trees of
    annotate's one in-memory codebook (annotate.codebook.queries.read_codebook)."""
    book = read_codebook(project)
    trees = {d.key: DimensionTree(dimension=d) for d in book.dimensions}
    by_id = {tree.dimension.pk: tree for tree in trees.values()}
    for category in book.categories:
        tree = by_id[category.dimension_id]
        chain = book.lineage(category.pk)
        tree.lineage[category.pk] = chain
        tree.paths[category.pk] = category.path
        tree.names[category.pk] = category.name
        tree.sort_keys[category.pk] = tuple(
            (book.by_id[a].order, book.by_id[a].name) for a in chain
        )
        tree.depth = max(tree.depth, len(chain))
        if category.retired:
            tree.retired.add(category.pk)
    return trees
