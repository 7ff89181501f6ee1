"""Loading the preset codebook in bulk: the rows are the ones the row-by-row walk made (every
field a reader sees), in a handful of queries, and a second load still fills only gaps."""

from annotate.models import PATH_SEPARATOR, Category, CodebookChange, Dimension
from annotate.presets import STUDY_PRESET
from annotate.projects import services

from ..factories import ProjectFactory, UserFactory


def expected_rows(preset) -> tuple[list, list]:
    """The dimensions and categories of `preset`, walked node by node as the old loader
    did (order among siblings, depth from 1, path joined from the parent's)."""
    dimensions, categories = [], []

    def walk(key, nodes, parent_path, depth):
        for order, (name, description, children) in enumerate(nodes):
            path = name if parent_path is None else f"{parent_path}{PATH_SEPARATOR}{name}"
            categories.append((key, parent_path, name, description, order, depth, path))
            walk(key, children, path, depth + 1)

    for order, (key, name, description, tree) in enumerate(preset):
        dimensions.append((key, name, description, order, True))
        walk(key, tree, None, 1)
    return dimensions, categories


def stored_rows(project) -> tuple[list, list]:
    dimensions = list(
        Dimension.objects.filter(project=project)
        .order_by("order")
        .values_list("key", "name", "description", "order", "required")
    )
    categories = [
        (
            c.dimension.key,
            c.parent.path if c.parent_id else None,
            c.name,
            c.description,
            c.order,
            c.depth,
            c.path,
        )
        for c in Category.objects.filter(dimension__project=project).select_related(
            "dimension", "parent"
        )
    ]
    return dimensions, categories


def test_the_preset_rows_are_the_ones_walked_node_by_node(db):
    owner = UserFactory()
    project = ProjectFactory()
    created = services.load_preset(project=project, user=owner)
    dimensions, categories = expected_rows(STUDY_PRESET)
    stored_dimensions, stored_categories = stored_rows(project)
    assert created == len(categories) == 85
    assert stored_dimensions == dimensions
    assert sorted(stored_categories, key=repr) == sorted(categories, key=repr)
    assert not Category.objects.filter(dimension__project=project, retired=True).exists()
    assert all(c.examples == [] for c in Category.objects.filter(dimension__project=project))
    change = CodebookChange.objects.get(project=project)
    assert (change.kind, change.version, change.user, change.payload) == (
        CodebookChange.Kind.PRESET,
        project.codebook_version,
        owner,
        {"categories_created": 85},
    )


def test_loading_the_preset_takes_a_handful_of_queries(db, django_assert_max_num_queries):
    project = ProjectFactory()
    # Dimensions read and inserted, categories read, one insert per depth (3), the
    # project's version and the change: row by row it took some 360.
    with django_assert_max_num_queries(10):
        services.load_preset(project=project)
    assert Category.objects.filter(dimension__project=project).count() == 85


def test_a_second_load_fills_only_what_is_missing(db):
    project = ProjectFactory()
    services.load_preset(project=project)
    symptom = Dimension.objects.get(project=project, key="symptom")
    Dimension.objects.filter(project=project, key="stage").delete()
    cuda = Category.objects.get(dimension=symptom, path="Crash > CUDA Error")
    Category.objects.filter(parent=cuda).delete()
    cuda.delete()
    kept = Category.objects.get(dimension=symptom, path="Crash")
    Category.objects.filter(pk=kept.pk).update(description="Edited by the project.")

    assert services.load_preset(project=project) == 7 + 2
    assert stored_rows(project)[1] != expected_rows(STUDY_PRESET)[1]  # the edit is kept
    kept.refresh_from_db()
    assert kept.description == "Edited by the project."
    Category.objects.filter(pk=kept.pk).update(description=STUDY_PRESET[0][3][0][1])
    dimensions, categories = expected_rows(STUDY_PRESET)
    stored_dimensions, stored_categories = stored_rows(project)
    assert stored_dimensions == dimensions
    assert sorted(stored_categories, key=repr) == sorted(categories, key=repr)
    assert CodebookChange.objects.filter(project=project).count() == 2
