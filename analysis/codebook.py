"""A project's category trees in memory: the category -> ancestor-at-level map that rolls
the database's per-category counts up to any level (two small queries)."""

from dataclasses import dataclass, field

from annotate.access import project_rows
from annotate.models import Category, Dimension


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
    """Every dimension of ``project`` keyed by its key, in codebook order."""
    trees = {d.key: DimensionTree(dimension=d) for d in project_rows(Dimension, project)}
    by_id = {tree.dimension.pk: tree for tree in trees.values()}
    rows = list(
        project_rows(Category, project).values_list(
            "id", "dimension_id", "parent_id", "name", "path", "order", "retired"
        )
    )
    parent = {cid: pid for cid, _, pid, _, _, _, _ in rows}
    info = {cid: (did, name, path, order) for cid, did, _, name, path, order, _ in rows}
    for cid, did, *_, retired in rows:
        if retired:
            by_id[did].retired.add(cid)
    for cid, (did, name, path, _order) in info.items():
        chain = [cid]
        while parent[chain[0]] is not None:
            chain.insert(0, parent[chain[0]])
        tree = by_id[did]
        tree.lineage[cid] = tuple(chain)
        tree.paths[cid] = path
        tree.names[cid] = name
        tree.sort_keys[cid] = tuple((info[a][3], info[a][1]) for a in chain)
        tree.depth = max(tree.depth, len(chain))
    return trees
