"""The pool builder's form: the filters of a PoolDefinition, over the repositories and
groups the project mines."""

from django import forms

from annotate.access import all_repository_views
from annotate.projects.pool import PoolDefinition
from mining.access import project_repositories


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
    near_duplicates = forms.FloatField(
        min_value=0.05,
        max_value=1,
        required=False,
        label="Fold near-duplicates at similarity",
        help_text="0.05 to 1 (0.6 is a fair start); empty: keep every issue. One issue per "
        "group stays: the one GitHub's duplicates point to, else the oldest.",
    )

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        repositories = project_repositories(project)
        self.fields["repositories"].queryset = repositories
        views = all_repository_views(project).filter(mined=True)
        groups = sorted({g for g in views.values_list("group", flat=True) if g})
        self.fields["groups"].choices = [(g, g) for g in groups]

    def definition(self) -> PoolDefinition:
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
            near_duplicates=d["near_duplicates"],
        )
