"""Project pages: the home list, creating a project, a project's overview and settings
(members, invitations, GitHub token), and joining through an invitation."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotate.access import (
    OWNERS,
    can_create_projects,
    check_can_create_projects,
    get_invitation_by_token,
    get_invitation_for_owner,
    get_project_for_user,
    pending_invitations,
    project_members,
    roles_by_project,
    user_projects,
)
from annotate.labeling.pace import annotator_pace
from annotate.models import Role
from annotate.projects import services
from annotate.projects.forms import (
    GitHubTokenForm,
    InviteForm,
    ProjectCreateForm,
    ProjectSettingsForm,
    RoleForm,
    SignUpForm,
)
from annotate.projects.services import progress_by_project
from annotate.responses import with_project_images
from annotate.versioned import cached


@login_required
def home(request):
    projects = list(user_projects(request.user).order_by("name"))
    progress = progress_by_project([p.pk for p in projects])
    roles = roles_by_project(request.user)
    rows = [
        {"project": p, "role": roles.get(p.pk), "progress": progress.get(p.pk)} for p in projects
    ]
    context = {"rows": rows, "can_create": can_create_projects(request.user)}
    return render(request, "annotate/home.html", context)


@login_required
def project_create(request):
    check_can_create_projects(request.user)
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(owner=request.user, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error("slug", str(error))
        else:
            messages.success(request, f"Project {project.name} created.")
            return redirect("project-detail", slug=project.slug)
    status = 400 if form.errors else 200
    return render(request, "annotate/project_create.html", {"form": form}, status=status)


@login_required
def project_detail(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    # Counts over every item (35 ms at 100,000): kept per data version, the same for all.
    progress = cached(
        project, ("progress",), lambda: progress_by_project([project.pk]).get(project.pk)
    )
    context = {
        "project": project,
        "membership": membership,
        "progress": progress,
        "member_counts": dict(
            project_members(project).values_list("role").annotate(n=Count("id")).order_by()
        ),
        "pace": annotator_pace(project=project, membership=membership),
    }
    return with_project_images(render(request, "annotate/project_detail.html", context), project)


@login_required
def project_settings(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=OWNERS)
    settings_form = ProjectSettingsForm(instance=project)
    invite_form, token_form = InviteForm(), GitHubTokenForm()
    new_link, status = None, 200
    if request.method == "POST" and "save_settings" in request.POST:
        settings_form = ProjectSettingsForm(request.POST, instance=project)
        if settings_form.is_valid():
            settings_form.save()
            messages.success(request, "Settings saved.")
            return redirect("project-settings", slug=slug)
    elif request.method == "POST" and "save_token" in request.POST:
        token_form = GitHubTokenForm(request.POST)
        if token_form.is_valid() and (
            token_form.cleaned_data["token"] or token_form.cleaned_data["clear"]
        ):
            try:
                token = "" if token_form.cleaned_data["clear"] else token_form.cleaned_data["token"]
                services.set_github_token(project=project, token=token)
            except services.ServiceError as error:
                token_form.add_error("token", str(error))
            else:
                messages.success(
                    request, "GitHub token removed." if not token else "GitHub token saved."
                )
                return redirect("project-settings", slug=slug)
        status = 400 if token_form.errors else 200
    elif request.method == "POST" and "invite" in request.POST:
        invite_form = InviteForm(request.POST)
        if invite_form.is_valid():
            try:
                _, token = services.invite_member(
                    project=project, created_by=request.user, **invite_form.cleaned_data
                )
            except services.ServiceError as error:
                invite_form.add_error(None, str(error))
            else:
                new_link = request.build_absolute_uri(reverse("invitation", args=[token]))
                invite_form = InviteForm()
        status = 400 if invite_form.errors else 200
    context = {
        "project": project,
        "membership": membership,
        "settings_form": settings_form,
        "invite_form": invite_form,
        "token_form": token_form,
        "members": project_members(project)
        .select_related("user")
        .order_by("role", "user__username"),
        "invitations": pending_invitations(project).select_related("created_by"),
        "roles": Role.choices,
        "new_link": new_link,
    }
    return render(request, "annotate/project_settings.html", context, status=status)


@login_required
@require_POST
def invitation_revoke(request, slug, invitation_id):
    project, _ = get_project_for_user(request.user, slug, roles=OWNERS)
    invitation = get_invitation_for_owner(request.user, project, invitation_id)
    services.revoke_invitation(invitation=invitation)
    messages.success(request, "Invitation revoked; its link no longer works.")
    return redirect("project-settings", slug=slug)


def invitation(request, token):
    """An invitation link: a signed-in user joins; a visitor signs up, then joins."""
    invitation = get_invitation_by_token(token)
    problem = invitation.problem()
    if problem:
        return render(request, "annotate/invitation.html", {"problem": problem}, status=410)
    form = None if request.user.is_authenticated else SignUpForm(request.POST or None)
    error, status = None, 200
    if request.method == "POST":
        try:
            if form is None:
                services.accept_invitation(token=token, user=request.user)
            elif form.is_valid():
                user = services.join_with_new_account(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                    email=form.cleaned_data.get("email") or "",
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except services.InvitationGone as gone:  # used by a concurrent request meanwhile
            return render(request, "annotate/invitation.html", {"problem": str(gone)}, status=410)
        except services.ServiceError as failure:
            error = str(failure)
        if error is None and (form is None or form.is_valid()):
            messages.success(request, f"You joined {invitation.project.name}.")
            return redirect("project-detail", slug=invitation.project.slug)
        status = 400
    context = {"invitation": invitation, "form": form, "error": error}
    return render(request, "annotate/invitation.html", context, status=status)


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
        members = project_members(project).select_related("user").order_by("role", "user__username")
        return render(
            request,
            "annotate/project_settings.html#members",
            {"project": project, "members": members, "roles": Role.choices},
        )
    return redirect("project-settings", slug=slug)
