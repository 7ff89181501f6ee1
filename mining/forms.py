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


class GroupForm(forms.Form):
    group = forms.CharField(max_length=100, required=False, strip=True)


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
