from django import forms

from .access import project_repositories
from .models import MiningJob
from .progress import parse_full_name, parse_issue_link


class RepositoryForm(forms.Form):
    full_name = forms.CharField(label="Repository (OWNER/NAME)", max_length=200)
    group = forms.CharField(max_length=100, required=False, help_text="e.g. the model series")
    model = forms.CharField(max_length=100, required=False)
    architecture = forms.CharField(max_length=100, required=False, help_text="e.g. Dense, MoE")

    def clean_full_name(self):
        try:
            parse_full_name(self.cleaned_data["full_name"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return self.cleaned_data["full_name"].strip()

    def metadata(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("model", "architecture") if self.cleaned_data[k]}


class JobForm(forms.Form):
    kind = forms.ChoiceField(choices=MiningJob.Kind.choices, initial=MiningJob.Kind.CRAWL)
    repositories = forms.ModelMultipleChoiceField(queryset=None, required=False)
    links = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For single issues: one link per line.",
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["repositories"].queryset = project_repositories(project)

    def clean(self):
        data = super().clean()
        links = [line.strip() for line in data.get("links", "").splitlines() if line.strip()]
        if data.get("kind") == MiningJob.Kind.SINGLE:
            if not links:
                raise forms.ValidationError("Give at least one issue link.")
            for link in links:
                try:
                    parse_issue_link(link)
                except ValueError as error:
                    raise forms.ValidationError(str(error)) from None
        elif not data.get("repositories"):
            raise forms.ValidationError("Choose at least one repository.")
        data["links"] = links
        return data


class PoolForm(forms.Form):
    repositories = forms.ModelMultipleChoiceField(queryset=None, required=False)
    groups = forms.MultipleChoiceField(choices=[], required=False)
    state = forms.ChoiceField(
        choices=[("", "any"), ("open", "open"), ("closed", "closed")], required=False
    )
    labels = forms.CharField(required=False, help_text="GitHub labels, comma-separated (any)")
    keywords = forms.CharField(required=False, help_text='full-text search: oom "cuda error"')
    regex = forms.CharField(required=False, label="Regular expression (title or body)")
    created_after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_before = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    min_comments = forms.IntegerField(min_value=0, required=False, initial=0)
    sample_size = forms.IntegerField(min_value=1, required=False, help_text="empty: all")
    seed = forms.IntegerField(initial=0, required=False)
    stratify = forms.BooleanField(required=False, label="Stratify by repository")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        repositories = project_repositories(project)
        self.fields["repositories"].queryset = repositories
        views = project.repository_views.filter(mined=True)
        groups = sorted({g for g in views.values_list("group", flat=True) if g})
        self.fields["groups"].choices = [(g, g) for g in groups]

    def definition(self):
        from .pool import PoolDefinition

        d = self.cleaned_data
        return PoolDefinition(
            repositories=[r.pk for r in d["repositories"]],
            groups=list(d["groups"]),
            state=d["state"],
            labels=[label.strip() for label in d["labels"].split(",") if label.strip()],
            keywords=d["keywords"],
            regex=d["regex"],
            created_after=d["created_after"],
            created_before=d["created_before"],
            min_comments=d["min_comments"] or 0,
            sample_size=d["sample_size"],
            seed=d["seed"] or 0,
            stratify=d["stratify"],
        )
