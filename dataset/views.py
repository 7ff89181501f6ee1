"""Pages of the dataset concern: export links, the owners' import upload, releases."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render

from analysis.cache import cached
from annotate.access import (
    MANAGERS,
    OWNERS,
    final_record_labels,
    get_import_job_for_user,
    get_project_for_user,
    has_role,
    project_import_jobs,
    project_items,
    project_releases,
    require_role,
)
from annotate.errors import ServiceError
from dataset import import_jobs, releases
from dataset.formats import FORMATS, MAX_FILE_BYTES, too_big_message
from dataset.importing import ImportFailed


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            if upload.size > MAX_FILE_BYTES:
                raise forms.ValidationError(f"{upload.name}: {too_big_message(upload.size)}.")
        return cleaned


class ImportForm(forms.Form):
    files = MultipleFileField(help_text="One or more files of the chosen format.")
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS], initial="olf")
    labels = forms.RegexField(
        r"^(final|none|annotator:[\w.@+-]{1,150})$",
        initial="final",
        help_text="final (provenance 'imported'), none (items only) or annotator:USERNAME",
    )
    add_categories = forms.BooleanField(
        required=False, help_text="Add categories missing from the codebook instead of failing."
    )
    group = forms.CharField(
        label="Group rule",
        required=False,
        max_length=105,
        help_text="The group (RQ4's series) of repositories new to the project: owner (the "
        "default: deepseek-ai, meta-llama, QwenLM), family (DeepSeek, Llama, Qwen) or one "
        "group name for all.",
    )
    group_map = forms.CharField(
        label="Group map",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "QwenLM/Qwen2.5=Qwen"}),
        help_text="Optional: OWNER/NAME=GROUP, one per line or separated by commas; these "
        "repositories get these groups (new or not). Each must be linked to by the files.",
    )
    group_map_file = forms.FileField(
        label="Group map file",
        required=False,
        help_text="Or the same map as a file (lines, or a JSON object).",
    )

    def clean(self):
        data = super().clean()
        upload = data.get("group_map_file")
        if upload is not None:
            if data.get("group_map"):
                self.add_error("group_map_file", "Give the map as text or as a file, not both.")
            elif upload.size > 1_000_000:
                self.add_error("group_map_file", "The group map file is over 1 MB.")
            else:
                try:
                    data["group_map"] = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    self.add_error("group_map_file", "The group map file is not UTF-8 text.")
        return data


class ReleaseForm(forms.Form):
    version = forms.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$",
        required=False,
        help_text="e.g. 1.0; the next number when left empty.",
    )
    title = forms.CharField(required=False, max_length=200)


@login_required
def dataset(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    context = {
        "project": project,
        "membership": membership,
        "formats": FORMATS,
        "can_export_all": has_role(membership, MANAGERS),
        # Counted over every item and record (about 1 s at 100,000 items): kept per data
        # version, the same for every member.
        **cached(project, ("dataset-counts",), lambda: _dataset_counts(project)),
        "releases": project_releases(project)[:5],
    }
    return render(request, "annotate/dataset.html", context)


def _dataset_counts(project) -> dict:
    items = project_items(project)
    return {
        "states": dict(items.values_list("state").annotate(n=Count("id")).order_by()),
        "final_records": final_record_labels(project)
        .values("item_id", "record")
        .distinct()
        .count(),
    }


@login_required
def import_page(request, slug):
    project, membership = get_project_for_user(request.user, slug, roles=OWNERS)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = import_jobs.start_import_job(
                project=project,
                user=request.user,
                files=data["files"],
                fmt=data["format"],
                labels=data["labels"],
                add_categories=data["add_categories"],
                group=data["group"],
                group_map=data.get("group_map") or "",
            )
        except import_jobs.ImportBusy as error:
            form.add_error(None, str(error))
        except ImportFailed as error:
            form.add_error(getattr(error, "field", "files"), f"Nothing imported. {error}")
        else:
            return redirect("dataset-import-job", slug=slug, import_id=job.pk)
    jobs = project_import_jobs(project).select_related("created_by")[:10]
    context = {"project": project, "membership": membership, "form": form, "jobs": jobs}
    status = 409 if form.non_field_errors() else 400 if form.errors else 200
    return render(request, "annotate/import.html", context, status=status)


@login_required
def import_job_page(request, slug, import_id):
    """An import's progress (polled by htmx while it runs) and then its outcome."""
    project, membership, job = get_import_job_for_user(request.user, slug, import_id)
    context = {
        "project": project,
        "membership": membership,
        "job": job,
        "progress": round(100 * import_jobs.job_progress(job)),
        "groups": import_jobs.describe_groups(job),
    }
    template = "annotate/import_job.html"
    if request.htmx:
        template += "#job-status"
    return render(request, template, context)


@login_required
def release_list(request, slug):
    project, membership = get_project_for_user(request.user, slug)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST":
        require_role(membership, OWNERS)
        if form.is_valid():
            try:
                release = releases.create_release(
                    project=project, user=request.user, **form.cleaned_data
                )
            except ServiceError as error:
                form.add_error("version", str(error))
            else:
                messages.success(request, f"Release {release.version} published.")
                return redirect("releases", slug=slug)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "releases": project_releases(project).select_related("created_by"),
    }
    return render(request, "annotate/releases.html", context)
