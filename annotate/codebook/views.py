"""Codebook pages: the tree every member reads, the lead's editor, and the review of
decisions that codebook changes flagged."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from annotate.access import (
    MANAGERS,
    codebook_changes,
    get_project_for_user,
    project_categories,
    project_dimensions,
    project_items,
)
from annotate.adjudication.flagged import flagged_decisions
from annotate.codebook import services
from annotate.codebook.queries import CategoryRefError, category_ref, category_tree
from annotate.errors import ServiceError
from annotate.models import Category
from annotate.responses import with_project_images


@login_required
def codebook(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    context = {
        "project": project,
        "membership": membership,
        "dimensions": category_tree(project),
        "item_count": project_items(project).count(),
    }
    return with_project_images(render(request, "annotate/codebook.html", context), project)


@login_required
def codebook_review(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    context = {
        "project": project,
        "membership": membership,
        "decisions": flagged_decisions(project)[:500],
        "changes": codebook_changes(project)
        .select_related("user")
        .order_by("-version", "-id")[:50],
    }
    return render(request, "annotate/codebook_edit_review.html", context)


@login_required
def codebook_edit(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=MANAGERS)
    if request.method == "POST":
        try:
            message = _apply_codebook_change(request, project)
            messages.success(request, message)
            return redirect("codebook-edit", slug=slug)
        except ServiceError as error:
            messages.error(request, str(error))
    context = {
        "project": project,
        "membership": membership,
        "dimensions": category_tree(project),
        "categories": project_categories(project)
        .select_related("dimension")
        .order_by("dimension__order", "path"),
    }
    return render(request, "annotate/codebook_edit.html", context)


def _category(project, value) -> Category:
    try:
        pk = category_ref(value).id
    except CategoryRefError:
        pk = None
    category = (
        project_categories(project).filter(pk=pk).select_related("dimension").first()
        if pk is not None
        else None
    )
    if category is None:
        raise ServiceError("Choose a category.")
    return category


def _apply_codebook_change(request, project) -> str:
    """Run the codebook change the posted form names; returns a message for the lead."""
    post, actor, op = request.POST, request.user, request.POST.get("op")
    if op == "add":
        dimension = project_dimensions(project).filter(key=post.get("dimension")).first()
        if dimension is None:
            raise ServiceError("Choose a dimension.")
        parent = _category(project, post["parent"]) if post.get("parent") else None
        category = services.add_category(
            project=project,
            actor=actor,
            dimension=dimension,
            name=post.get("name", ""),
            parent=parent,
            description=post.get("description", ""),
        )
        return f"Added {category.path}."
    category = _category(project, post.get("category"))
    if op == "rename":
        services.rename_category(project=project, actor=actor, category=category, name=post["name"])
        return f"Renamed to {category.path}."
    if op == "retire":
        retired = post.get("retired", "1") == "1"
        services.retire_category(project=project, actor=actor, category=category, retired=retired)
        return f"{'Retired' if retired else 'Restored'} {category.path}."
    if op == "merge":
        target = _category(project, post.get("target"))
        moved = services.merge_categories(
            project=project, actor=actor, source=category, target=target
        )
        return f"Merged into {target.path}: {sum(moved.values())} labels moved."
    if op == "split":
        names = [line for line in post.get("into", "").splitlines() if line.strip()]
        parts = services.split_category(project=project, actor=actor, category=category, into=names)
        return f"Split into {', '.join(p.path for p in parts)}; affected items await a decision."
    raise ServiceError("Unknown codebook change.")
