from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import services
from .access import OWNERS, get_project_for_user, user_projects
from .forms import AddMemberForm, ProjectSettingsForm, RoleForm
from .models import Item, Role
from .queries import category_tree, progress_by_project
from .responses import with_project_images


@login_required
def home(request):
    projects = list(user_projects(request.user).order_by("name"))
    progress = progress_by_project([p.pk for p in projects])
    roles = dict(request.user.memberships.values_list("project_id", "role"))
    rows = [
        {"project": p, "role": roles.get(p.pk), "progress": progress.get(p.pk)} for p in projects
    ]
    return render(request, "annotate/home.html", {"rows": rows})


@login_required
def project_detail(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    progress = progress_by_project([project.pk]).get(project.pk)
    context = {
        "project": project,
        "membership": membership,
        "progress": progress,
        "member_counts": dict(
            project.memberships.values_list("role").annotate(n=Count("id")).order_by()
        ),
    }
    return with_project_images(render(request, "annotate/project_detail.html", context), project)


@login_required
def project_settings(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=OWNERS)
    settings_form = ProjectSettingsForm(instance=project)
    member_form = AddMemberForm()
    new_user = None
    if request.method == "POST" and "save_settings" in request.POST:
        settings_form = ProjectSettingsForm(request.POST, instance=project)
        if settings_form.is_valid():
            settings_form.save()
            messages.success(request, "Settings saved.")
            return redirect("project-settings", slug=slug)
    elif request.method == "POST" and "add_member" in request.POST:
        member_form = AddMemberForm(request.POST)
        if member_form.is_valid():
            new_user = services.add_member(project=project, **member_form.cleaned_data)
            messages.success(request, f"{member_form.cleaned_data['username']} added.")
            member_form = AddMemberForm()
    members = project.memberships.select_related("user").order_by("role", "user__username")
    context = {
        "project": project,
        "membership": membership,
        "settings_form": settings_form,
        "member_form": member_form,
        "members": members,
        "roles": Role.choices,
        "new_user": new_user,
    }
    return render(request, "annotate/project_settings.html", context)


@login_required
@require_POST
def member_update(request, slug, membership_id):
    project, _ = get_project_for_user(request.user, slug, roles=OWNERS)
    form = RoleForm(request.POST)
    try:
        if form.is_valid() and form.cleaned_data["remove"]:
            services.remove_member(project=project, membership_id=membership_id)
        elif form.is_valid() and form.cleaned_data["role"]:
            services.change_role(
                project=project, membership_id=membership_id, role=form.cleaned_data["role"]
            )
    except services.ServiceError as error:
        messages.error(request, str(error))
    except project.memberships.model.DoesNotExist:
        raise Http404("No such member.") from None
    if request.htmx:
        members = project.memberships.select_related("user").order_by("role", "user__username")
        return render(
            request,
            "annotate/project_settings.html#members",
            {"project": project, "members": members, "roles": Role.choices},
        )
    return redirect("project-settings", slug=slug)


@login_required
def codebook(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    context = {
        "project": project,
        "membership": membership,
        "dimensions": category_tree(project),
        "item_count": Item.objects.filter(project=project).count(),
    }
    return with_project_images(render(request, "annotate/codebook.html", context), project)
