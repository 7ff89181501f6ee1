"""Read-side helpers shared by pages and the API: aggregate counts and codebook trees."""

from collections import defaultdict

from django.db.models import Count

from .models import Category, Item


def progress_by_project(project_ids) -> dict[int, dict]:
    """Item counts per state for each project, in one query."""
    result: dict[int, dict] = {}
    rows = (
        Item.objects.filter(project_id__in=project_ids)
        .values_list("project_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for project_id, state, n in rows:
        entry = result.setdefault(project_id, {"total": 0, "states": {}})
        entry["states"][state] = n
        entry["total"] += n
    for entry in result.values():
        settled = entry["states"].get(Item.State.SETTLED, 0)
        entry["settled"] = settled
        entry["percent"] = round(100 * settled / entry["total"]) if entry["total"] else 0
    return result


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
    """The project's codebook as plain data (API replies, release archives): its version and
    each dimension with its category tree; `ids` adds database ids for API clients."""

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
    return {"version": project.codebook_version, "dimensions": dimensions}
