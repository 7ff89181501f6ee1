"""One door (issue #14): who may see what is decided in annotate/access/, nowhere else.

A static check over the syntax tree of every module of the four apps: a view, API resource,
service, serializer, form, filter or task that filters a project-scoped model by its project
itself (`Item.objects.filter(project=...)`, `Category.objects.filter(dimension__project=...)`,
`project.releases.all()`), looks up memberships or held items by hand, or compares a role
(`membership.role in MANAGERS`, `== Role.OWNER`) fails here with its module, line and the
rule to call instead: a named function of annotate.access (or, for a plain data filter,
a named QuerySet method of the model). A permission rule written twice drifts apart; the
matrix in test_permission_matrix.py tests the doors, this test keeps them the only ones.

Not read, and why:
- access: the doors themselves (the annotate/access/ package; mining/access.py holds the rules of
  mined rows, which sit below annotate and build on annotate.access).
- models (annotate/models/, models.py): the named QuerySet methods live there.
- migrations/: frozen history.
- admin.py: the Django admin is for staff; its permissions are Django's, not a project's.
- management/: commands run on the server's shell by an operator who holds the database;
  there is no caller whose membership could be checked, and a command names its project
  by slug on purpose.
- demo.py: the demo seed (run by seed_demo) builds a project of its own; no caller either.

Two patterns are not permission rules and pass (they are matched exactly, not by module):
- get_or_create / update_or_create with `project=`: a write that names the project a
  service already received, scoped, from a view; the project is the value written.
- a lookup through `project` whose value is F(...) or OuterRef(...): a join of a row to
  its own project (an item's group is its own project's group), not a choice of project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
APPS = ("annotate", "dataset", "analysis", "mining")
SKIPPED_DIRS = {"migrations", "management", "models"}
# Skipped by their place, not their bare name: a concern package's own `access.py` or
# `models.py` (annotate/labeling/access.py) is a module like any other and is read.
# The door itself is a package (annotate/access/: roles, rows, items, sources).
SKIPPED_PACKAGES = ("annotate/access/",)
SKIPPED_PATHS = {
    "mining/access.py",
    "annotate/admin.py",
    "mining/admin.py",
    "annotate/demo.py",
    "mining/demo.py",
    "analysis/models.py",
    "mining/models.py",
}
# Named QuerySet methods that choose rows by project: the scoping rule itself, which only
# the doors may apply (`Item.objects.in_project(project)` is `filter(project=project)`).
SCOPING_METHODS = {"in_project"}

# Calls that look rows up by keyword lookups (a queryset's, Q's, the shortcuts').
LOOKUPS = {"filter", "exclude", "get", "Q", "get_object_or_404", "get_list_or_404"}
JOINS = {"F", "OuterRef"}
# What may follow a reverse manager without reading through it.
NOT_READS = {"model", "create", "bulk_create"}
GROUPS = {"MANAGERS", "OWNERS", "ALL_ROLES"}

ROLE_RULE = (
    "access.require_role(membership, roles[, message]) (403 otherwise) or "
    "access.has_role(membership, roles) (a bool, for what a page shows)"
)
DEFAULT_RULE = (
    "a named function of annotate.access (who may see what), or a named QuerySet "
    "method of the model in annotate/models.py (a plain data filter)"
)
# The rule to use instead, by the model (or Project's reverse manager) read.
RULES = {
    "Item": "access.project_items(project) (counts, managers) or the visible-items rule "
    "(access.get_item_for_user)",
    "items": "access.project_items(project) (counts, managers) or the visible-items rule "
    "(access.get_item_for_user)",
    "Membership": "access.project_members(project)",
    "memberships": "access.project_members(project), access.roles_by_project(user), "
    "access.user_projects_with_role(user) or access.leaves_no_owner(...)",
    "Project": "access.user_projects(user) / access.user_projects_with_role(user)",
    "Invitation": "access.open_invitations(project) / access.pending_invitations(project) / "
    "access.get_invitation_for_owner",
    "invitations": "access.pending_invitations(project) / access.open_invitations(project)",
    "Release": "access.project_releases(project) / access.get_release(project, version)",
    "releases": "access.project_releases(project) / access.get_release(project, version)",
    "ImportJob": "access.project_import_jobs(project) / access.get_import_job_for_user",
    "import_jobs": "access.project_import_jobs(project) / access.get_import_job_for_user",
    "Category": "access.project_categories(project)",
    "Dimension": "access.project_dimensions(project)",
    "dimensions": "access.project_dimensions(project)",
    "CodebookChange": "access.codebook_changes(project)",
    "Issue": "access.project_issues(project)",
    "Assignment": "access.own_assignments(project, user)",
    "Annotation": "access.own_annotations(project, user) / access.project_annotations(project)",
    "FinalLabel": "access.settled_final_labels(project)",
    "FinalRecordLabel": "access.final_record_labels(project)",
    "Repository": "mining.access.project_repositories(project)",
    "ProjectRepository": "mining.access.project_repository_views(project)",
    "repository_views": "mining.access.project_repository_views(project)",
    "MiningJob": "mining.access.project_jobs(project) / mining.access.get_job_for_user",
    "jobs": "mining.access.project_jobs(project) / mining.access.get_job_for_user",
}


@dataclass(frozen=True)
class Finding:
    line: int
    what: str
    rule: str

    def __str__(self):
        return f"{self.line}: {self.what}; use {self.rule}"


def _reverse_managers() -> tuple[set[str], set[str]]:
    """Project's reverse managers (`project.items`), and those of them that other models
    share by name (`issue.items`), which count only when read from a project."""
    project = apps.get_model("annotate", "Project")
    mine = {rel.get_accessor_name() for rel in project._meta.related_objects}
    others = {
        rel.get_accessor_name()
        for model in apps.get_models()
        if model is not project
        for rel in model._meta.related_objects
    }
    return mine, mine & others


def _name(node) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _model_of(call: ast.Call) -> str | None:
    """`Item` in Item.objects.x(...).filter(...) and get_object_or_404(Item, ...); the
    reverse manager in project.items.x()."""
    node = call.func
    if isinstance(node, ast.Name) and call.args:
        return _name(call.args[0])
    while isinstance(node, ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            return _name(node.value)
        if isinstance(node, ast.Attribute) and node.attr in RULES:
            return node.attr
    return None


def _scoped_keywords(call: ast.Call):
    """The keyword lookups of `call` that choose rows by project, membership or holder
    (also written as Q's positional pairs: `Q(("project", p))`)."""
    positional = [
        ast.keyword(arg=arg.elts[0].value, value=arg.elts[1])
        for arg in call.args
        if isinstance(arg, ast.Tuple)
        and len(arg.elts) == 2
        and isinstance(arg.elts[0], ast.Constant)
        and isinstance(arg.elts[0].value, str)
    ]
    for keyword in [*call.keywords, *positional]:
        pairs = [(keyword.arg, keyword.value)]
        if keyword.arg is None and isinstance(keyword.value, ast.Dict):  # **{"project": p}
            pairs = [
                (k.value, v)
                for k, v in zip(keyword.value.keys, keyword.value.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        for lookup, value in pairs:
            if lookup is None:
                continue
            parts = lookup.split("__")
            joined = isinstance(value, ast.Call) and _name(value.func) in JOINS
            if ({"project", "project_id"} & set(parts)) and not joined:
                yield lookup
            elif "memberships" in parts or "assignments__annotator" in lookup:
                yield lookup


def _projectish(node) -> bool:
    name = _name(node)
    return bool(name) and name.endswith("project")


def _role_values() -> set[str]:
    from annotate.models import Role

    return set(Role.values)


def _is_role_literal(node) -> bool:
    """A role written as its value: "owner", or a tuple/list/set of such values."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value in _role_values()
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts:
        return all(_is_role_literal(elt) for elt in node.elts)
    return False


def _roleish(node) -> bool:
    name = _name(node)
    return bool(name) and name.endswith("role")


def _compares_role_values(node: ast.Compare) -> bool:
    """`role == "owner"`, `user_role in ("owner", "lead")`: a role named by its value."""
    sides = [node.left, *node.comparators]
    return any(_roleish(side) for side in sides) and any(_is_role_literal(s) for s in sides)


def _is_role(node) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "role":
        return True
    if isinstance(node, ast.Attribute) and _name(node.value) == "Role":
        return node.attr.isupper()
    return isinstance(node, ast.Name) and node.id in GROUPS


def findings(source: str) -> list[Finding]:
    """Every hand-written scoped lookup and role check in a module's source."""
    mine, shared = _reverse_managers()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in SCOPING_METHODS:
            model = _model_of(node)
            what = f"{_name(node.func)}(...)" + (f" on {model}" if model else "")
            found.append(Finding(node.lineno, what, RULES.get(model, DEFAULT_RULE)))
        elif isinstance(node, ast.Call) and _name(node.func) in LOOKUPS:
            for lookup in _scoped_keywords(node):
                model = _model_of(node) if _name(node.func) != "Q" else None
                what = f"{_name(node.func)}({lookup}=...)" + (f" on {model}" if model else "")
                found.append(Finding(node.lineno, what, RULES.get(model, DEFAULT_RULE)))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr in mine
            and node.attr not in NOT_READS
            and (
                node.value.attr not in shared
                or node.value.attr == "memberships"  # a user's or a project's: one rule
                or _projectish(node.value.value)
            )
        ):
            manager = node.value.attr
            what = f"{ast.unparse(node.value)}.{node.attr}"
            found.append(Finding(node.lineno, what, RULES.get(manager, DEFAULT_RULE)))
        elif isinstance(node, ast.Compare) and (
            any(_is_role(side) for side in [node.left, *node.comparators])
            or _compares_role_values(node)
        ):
            found.append(Finding(node.lineno, f"role check {ast.unparse(node)}", ROLE_RULE))
    return sorted(set(found), key=lambda f: (f.line, f.what))


def skipped(relative: str) -> bool:
    """Whether the module at `relative` (a path from the repository's root) is not read."""
    parts = Path(relative).parts
    return (
        relative in SKIPPED_PATHS
        or relative.startswith(SKIPPED_PACKAGES)
        or bool(SKIPPED_DIRS & set(parts[:-1]))
    )


def modules() -> list[str]:
    paths = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not skipped(relative):
                paths.append(relative)
    return paths


def test_the_check_reads_the_views_api_services_and_serializers_of_every_app():
    read = modules()
    for app in APPS:
        names = {Path(m).name for m in read if m.startswith(f"{app}/")}
        assert any(name.startswith(("views", "api")) for name in names), app
    kinds = {Path(m).name.split(".")[0].split("_")[0] for m in read}
    assert {"views", "api", "services", "serializers", "forms", "filters", "tasks"} <= kinds
    assert not [m for m in read if m in SKIPPED_PATHS or "migrations/" in m]
    assert not [m for m in read if "/management/" in m]


@pytest.mark.parametrize(
    "source",
    [
        "Item.objects.filter(project=project)",
        "Item.objects.select_related('issue').get(project_id=project.pk, pk=1)",
        "Category.objects.filter(dimension__project=project)",
        "Membership.objects.filter(project=p)",
        "Release.objects.filter(**{'project': p})",
        "get_object_or_404(Issue, items__project=project, pk=1)",
        "Q(item__project=project)",
        "Project.objects.filter(memberships__user=user)",
        "items.filter(assignments__annotator=user)",
        "project.items.filter(state='open')",
        "self.project.memberships.select_related('user')",
        "request.user.memberships.values_list('role')",
        "project.invitations.pending()",
        "membership.role in (Role.OWNER, Role.LEAD)",
        "self.membership.role != Role.OWNER",
        "role == Role.ANNOTATOR",
        "membership.role not in MANAGERS",
        # Loopholes the check had: the scoping rule under a QuerySet method's name, Q's
        # positional pairs, and roles compared as their values.
        "Item.objects.in_project(project)",
        "Assignment.objects.select_for_update().in_project(p).filter(annotator=u)",
        "items.in_project(project)",
        "Item.objects.filter(Q(('project', project)))",
        "role in ('owner', 'lead')",
        "role == 'annotator'",
    ],
)
def test_the_check_finds_each_kind_of_hand_written_rule(source):
    assert findings(source), source


@pytest.mark.parametrize(
    "source",
    [
        "Membership.objects.update_or_create(project=p, user=u, defaults={})",
        "Dimension.objects.get_or_create(project=p, key='k')",
        "items.filter(issue__repository__views__project=F('project'))",
        "ProjectRepository.objects.filter(project_id=OuterRef('project'))",
        "issue.items.filter(state='open')",
        "item.conflicts.filter(resolved=False)",
        "project.items.create(issue=issue)",
        "project.memberships.model.DoesNotExist",
        "{'a': 1}.items()",
        "source.kind == 'annotator'",
        "role not in Role.values",
        "Item.objects.filter(pk__in=ids)",
    ],
)
def test_the_check_passes_writes_joins_and_other_models(source):
    assert not findings(source), source


@pytest.mark.parametrize(
    "relative",
    [
        "annotate/labeling/access.py",
        "annotate/projects/models.py",
        "dataset/admin.py",
        "annotate/labeling/access/rows.py",
    ],
)
def test_a_door_or_models_file_is_skipped_only_where_it_is_the_door(relative):
    # By bare name, any `access.py` or `models.py` anywhere escaped the check.
    assert not skipped(relative)
    assert skipped("annotate/access/rows.py") and skipped("annotate/models/labeling.py")


@pytest.mark.parametrize("module", modules())
def test_no_module_writes_a_permission_rule_of_its_own(module):
    found = findings((ROOT / module).read_text())
    assert not found, f"{module} decides who may see what itself:\n" + "\n".join(
        f"  {module}:{finding}" for finding in found
    )
