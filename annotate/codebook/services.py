"""Changing a project's codebook while labeling goes on.

Every change bumps Project.codebook_version, writes a CodebookChange and an AuditEvent,
and keeps every label: categories are never deleted. Renaming rewrites the `path` of the
node and of all its descendants; merging moves every annotation, frozen-round and final
label to the surviving category; splitting retires the category and sends the items that
carry it back to a lead for a decision.
"""

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from annotate.access import project_items
from annotate.adjudication.comparison import compare_sides, side_of
from annotate.adjudication.settling import category_parents, item_annotations, store_conflicts
from annotate.errors import ServiceError
from annotate.limits import examples_problem, too_long
from annotate.models import (
    PATH_SEPARATOR,
    AnnotationLabel,
    AnnotationRoundLabel,
    AuditEvent,
    Category,
    CodebookChange,
    Conflict,
    Dimension,
    FinalRecordLabel,
    Item,
    Project,
)


class CodebookError(ServiceError):
    """A codebook change that would break the tree or lose labels."""


MAX_NAME = Category._meta.get_field("name").max_length
MAX_PATH = Category._meta.get_field("path").max_length


def _record_change(project: Project, actor, kind: str, payload: dict) -> CodebookChange:
    Project.objects.filter(pk=project.pk).update(codebook_version=F("codebook_version") + 1)
    project.refresh_from_db(fields=["codebook_version"])
    change = CodebookChange.objects.create(
        project=project, version=project.codebook_version, kind=kind, payload=payload, user=actor
    )
    AuditEvent.objects.create(
        project=project,
        actor=actor,
        kind=f"codebook_{kind}",
        payload={"version": project.codebook_version, **payload},
    )
    return change


# Characters that reorder the text around them when shown: a name "\u202eevil" reads
# "live" and drags the "(#8)" after it on the board to "(8#)".
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_name(dimension: Dimension, parent: Category | None, name: str, exclude=None) -> str:
    name = (name or "").strip()
    if not name:
        raise CodebookError("A category needs a name.")
    if PATH_SEPARATOR.strip() in name:
        raise CodebookError(f"A category name cannot contain '{PATH_SEPARATOR.strip()}'.")
    _check_text(name, "A category name")
    if any(ch in BIDI_CONTROLS for ch in name):
        raise CodebookError(
            "A category name cannot contain Unicode direction controls (U+202A-U+202E, "
            "U+2066-U+2069): they reverse how the name and the text after it are shown."
        )
    if len(name) > MAX_NAME:
        raise CodebookError(f"A category name has at most {MAX_NAME} characters.")
    path = name if parent is None else f"{parent.path}{PATH_SEPARATOR}{name}"
    below = 0
    if exclude is not None:  # a rename: the paths of its descendants change with it
        paths = _descendants(exclude).values_list("path", flat=True)
        below = max((len(p) - len(exclude.path) for p in paths), default=0)
    if len(path) + below > MAX_PATH:
        raise CodebookError(f"A category's full path has at most {MAX_PATH} characters.")
    siblings = Category.objects.filter(dimension=dimension, parent=parent, name=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        raise CodebookError(f"'{name}' already exists at that place in the tree.")
    return name


def _check_text(text: str, what: str) -> None:
    if "\x00" in (text or ""):
        raise CodebookError(f"{what} cannot contain null characters.")


def _save_new(category: Category) -> None:
    """Insert a new category; a concurrent insert of the same name is a CodebookError."""
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise CodebookError(
            f"'{category.name}' already exists at that place in the tree."
        ) from None


def _check_owned(project: Project, *categories: Category) -> None:
    for category in categories:
        if category.dimension.project_id != project.pk:
            raise CodebookError("That category belongs to another project.")


def _descendants(category: Category):
    return Category.objects.filter(
        dimension_id=category.dimension_id, path__startswith=category.path + PATH_SEPARATOR
    )


def _move_subtree(category: Category, new_path: str) -> int:
    """Rewrite the path and depth of `category` and its descendants; returns nodes moved."""
    old_path, old_depth = category.path, category.depth
    new_depth = new_path.count(PATH_SEPARATOR) + 1
    moved = 0
    for node in _descendants(category):
        node.path = new_path + node.path[len(old_path) :]
        node.depth = node.depth - old_depth + new_depth
        node.save(update_fields=["path", "depth"])
        moved += 1
    category.path, category.depth = new_path, new_depth
    category.save(update_fields=["path", "depth", "name", "parent"])
    return moved + 1


@transaction.atomic
def add_category(
    *,
    project: Project,
    actor,
    dimension: Dimension,
    name: str,
    parent: Category | None = None,
    description: str = "",
    examples: list | None = None,
) -> Category:
    """Add a category to a dimension (at the top, or under `parent`)."""
    if problem := too_long("description", description) or examples_problem(examples):
        raise CodebookError(problem)
    if dimension.project_id != project.pk:
        raise CodebookError("That dimension belongs to another project.")
    if parent is not None and parent.dimension_id != dimension.pk:
        raise CodebookError("The parent belongs to another dimension.")
    name = _check_name(dimension, parent, name)
    _check_text(description, "A description")
    siblings = Category.objects.filter(dimension=dimension, parent=parent).count()
    category = Category(
        dimension=dimension,
        parent=parent,
        name=name,
        description=description,
        examples=examples or [],
        order=siblings,
        depth=1 if parent is None else parent.depth + 1,
    )
    category.path = category.compute_path()
    _save_new(category)
    _record_change(
        project,
        actor,
        CodebookChange.Kind.ADD,
        {"dimension": dimension.key, "category": category.pk, "path": category.path},
    )
    return category


@transaction.atomic
def rename_category(*, project: Project, actor, category: Category, name: str) -> Category:
    """Rename a category; the paths of the node and all its descendants follow."""
    _check_owned(project, category)
    name = _check_name(category.dimension, category.parent, name, exclude=category)
    old_path = category.path
    category.name = name
    try:
        with transaction.atomic():
            moved = _move_subtree(category, category.compute_path())
    except IntegrityError:  # a concurrent change gave a sibling this name first
        raise CodebookError(f"'{name}' already exists at that place in the tree.") from None
    _record_change(
        project,
        actor,
        CodebookChange.Kind.RENAME,
        {"category": category.pk, "from": old_path, "to": category.path, "nodes": moved},
    )
    return category


@transaction.atomic
def edit_category(
    *, project: Project, actor, category: Category, description: str, examples: list | None = None
) -> Category:
    """Change a category's description (and examples) shown to annotators."""
    if problem := too_long("description", description) or examples_problem(examples):
        raise CodebookError(problem)
    _check_owned(project, category)
    _check_text(description, "A description")
    category.description = description
    if examples is not None:
        category.examples = examples
    category.save(update_fields=["description", "examples"])
    _record_change(
        project, actor, CodebookChange.Kind.EDIT, {"category": category.pk, "path": category.path}
    )
    return category


@transaction.atomic
def retire_category(
    *, project: Project, actor, category: Category, retired: bool = True
) -> list[int]:
    """Retire (or bring back) a category and its whole subtree: retired categories are no
    longer offered to annotators, their labels stay. Returns the ids changed."""
    _check_owned(project, category)
    nodes = Category.objects.filter(Q(pk=category.pk) | Q(pk__in=_descendants(category)))
    changed = list(nodes.exclude(retired=retired).values_list("pk", flat=True))
    Category.objects.filter(pk__in=changed).update(retired=retired)
    category.retired = retired
    _record_change(
        project,
        actor,
        CodebookChange.Kind.RETIRE,
        {"category": category.pk, "path": category.path, "retired": retired, "nodes": changed},
    )
    return changed


def _move_labels(source: Category, target: Category) -> dict[str, int]:
    moved = {
        "annotation_labels": AnnotationLabel.objects.filter(category=source).update(
            category=target
        ),
        "final_labels": FinalRecordLabel.objects.filter(category=source).update(category=target),
        "round_labels": AnnotationRoundLabel.objects.filter(category=source).update(
            category=target
        ),
    }
    Conflict.objects.filter(category_a=source).update(category_a=target)
    Conflict.objects.filter(category_b=source).update(category_b=target)
    return moved


def _merge_into(source: Category, target: Category, log: list) -> dict[str, int]:
    """Move `source`'s children under `target` (merging same-named ones), then its labels;
    `source` is retired, never deleted."""
    totals = {"annotation_labels": 0, "final_labels": 0, "round_labels": 0}
    for child in list(source.children.all()):
        twin = target.children.filter(name=child.name).first()
        if twin is not None:
            for key, n in _merge_into(child, twin, log).items():
                totals[key] += n
            continue
        child.parent = target
        _move_subtree(child, target.path + PATH_SEPARATOR + child.name)
    for key, n in _move_labels(source, target).items():
        totals[key] += n
    source.retired = True
    source.save(update_fields=["retired"])
    log.append({"from": source.pk, "from_path": source.path, "into": target.pk})
    return totals


@transaction.atomic
def merge_categories(
    *, project: Project, actor, source: Category, target: Category
) -> dict[str, int]:
    """Merge `source` into `target` (same dimension): every annotation, frozen-round and
    final label moves to `target`, subcategories move under it, `source` is retired.
    Items in conflict get their differences recomputed. Returns the labels moved."""
    _check_owned(project, source, target)
    if source.pk == target.pk:
        raise CodebookError("A category cannot be merged into itself.")
    if source.dimension_id != target.dimension_id:
        raise CodebookError("Only categories of the same dimension can be merged.")
    if target.path.startswith(source.path + PATH_SEPARATOR):
        raise CodebookError("A category cannot be merged into one of its own subcategories.")
    if target.retired:
        raise CodebookError("Merge into an active category, not a retired one.")
    below = _descendants(source).values_list("path", flat=True)
    if any(len(target.path) + len(path) - len(source.path) > MAX_PATH for path in below):
        raise CodebookError(
            f"Merged there, a subcategory's full path would pass {MAX_PATH} characters."
        )
    source_path = source.path
    log: list = []
    moved = _merge_into(source, target, log)
    _refresh_conflicts(project, [entry["into"] for entry in log])
    _record_change(
        project,
        actor,
        CodebookChange.Kind.MERGE,
        {"source": source.pk, "from": source_path, "into": target.path, "moved": moved},
    )
    return moved


def _refresh_conflicts(project: Project, category_ids) -> None:
    states = [Item.State.CONFLICT, Item.State.DISCUSSION]
    touched = Q(conflicts__category_a__in=category_ids) | Q(conflicts__category_b__in=category_ids)
    disputed = project_items(project).filter(state__in=states, conflicts__resolved=False)
    items = disputed.filter(touched)
    parents = category_parents(project)
    for item in items.distinct():
        sides = [side_of(a) for a in item_annotations(item)]
        store_conflicts(item=item, differences=compare_sides(sides, parents))


@transaction.atomic
def split_category(
    *, project: Project, actor, category: Category, into: list[str]
) -> list[Category]:
    """Split a leaf category into new sibling categories named `into`; the old one is
    retired and every item whose annotations or final label carry it goes back to a lead
    (state conflict) with a codebook conflict. No label is changed or removed."""
    _check_owned(project, category)
    if category.children.exists():
        raise CodebookError("Split the subcategories first: only a leaf can be split.")
    names = [n.strip() for n in into if n and n.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise CodebookError("Name at least two different new categories.")
    parts = []
    for name in names:
        name = _check_name(category.dimension, category.parent, name)
        part = Category(
            dimension_id=category.dimension_id,
            parent=category.parent,
            name=name,
            order=category.order,
            depth=category.depth,
            description=category.description,
        )
        part.path = part.compute_path()
        _save_new(part)
        parts.append(part)
    category.retired = True
    category.save(update_fields=["retired"])
    affected = _send_back(project, actor, category, parts)
    _record_change(
        project,
        actor,
        CodebookChange.Kind.SPLIT,
        {
            "category": category.pk,
            "path": category.path,
            "into": [p.path for p in parts],
            "items": affected,
        },
    )
    return parts


def _send_back(project: Project, actor, category: Category, parts) -> list[int]:
    item_ids = set(
        AnnotationLabel.objects.filter(category=category).values_list("item_id", flat=True)
    ) | set(FinalRecordLabel.objects.filter(category=category).values_list("item_id", flat=True))
    items = project_items(project).select_for_update().filter(pk__in=item_ids)
    affected = []
    for item in items.exclude(state__in=[Item.State.OPEN, Item.State.EXCLUDED]):
        Conflict.objects.create(
            project=project,
            item=item,
            kind=Conflict.Kind.CODEBOOK,
            dimension_id=category.dimension_id,
            level=category.depth,
            category_a=category,
            category_b=category,
            detail={"split_into": [p.path for p in parts]},
        )
        if item.state != Item.State.CONFLICT:
            previous = item.state
            item.state = Item.State.CONFLICT
            item.save(update_fields=["state"])
            AuditEvent.objects.create(
                project=project,
                item=item,
                actor=actor,
                kind="codebook_split_reopened",
                payload={"category": category.path, "from_state": previous},
            )
        affected.append(item.pk)
    return sorted(affected)
