"""Forms of the project pages: creating a project, its settings, members, invitations and
signing up through an invitation."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from annotate.limits import not_one_line, too_long
from annotate.models import Project, Role
from annotate.presets import CODEBOOKS
from annotate.projects.metadata import LICENSE_CHOICES, MetadataError, authors_text, parse_authors


class ProjectSettingsForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = [
            "name",
            "description",
            "guidelines",
            "overlap",
            "assignment_timeout_minutes",
            "hide_annotator_names",
            "allow_external_images",
            "license",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "guidelines": forms.Textarea(attrs={"rows": 10}),
        }

    license = forms.ChoiceField(
        label="Dataset license",
        choices=LICENSE_CHOICES,
        required=False,
        help_text="Written into every release's citation files and dataset card.",
    )
    authors_text = forms.CharField(
        label="Dataset authors",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: Family, Given; Affiliation; ORCID iD (the last two optional). "
        "Releases cite the dataset with these names.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["authors_text"].initial = authors_text(self.instance.authors or [])

    def clean_name(self):
        name = self.cleaned_data["name"]
        if problem := not_one_line("name", name):
            raise forms.ValidationError(problem)
        return name

    def clean_license(self):
        """Left out of a form: the license stays as it was."""
        return self.cleaned_data.get("license") or self.instance.license

    def clean_authors_text(self):
        try:
            return parse_authors(self.cleaned_data.get("authors_text") or "")
        except MetadataError as error:
            raise forms.ValidationError(str(error)) from None

    def save(self, commit=True):
        if "authors_text" in self.data:  # left out of a form: the authors stay as they were
            self.instance.authors = self.cleaned_data.get("authors_text") or []
        return super().save(commit=commit)

    def clean(self):
        cleaned = super().clean()
        for field in ("description", "guidelines"):
            if problem := too_long(field, cleaned.get(field)):
                self.add_error(field, problem)
        return cleaned

    def clean_overlap(self):
        overlap = self.cleaned_data["overlap"]
        if not 1 <= overlap <= 10:
            raise forms.ValidationError("Overlap must be between 1 and 10 annotators.")
        return overlap


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100, help_text="Letters, digits, '-' and '_': the URL.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    codebook = forms.ChoiceField(
        choices=[(key, text) for key, (_preset, text) in CODEBOOKS.items()],
        initial="study",
        required=False,  # a form that does not ask (an older page, a script) gets the study's
        widget=forms.RadioSelect,
        help_text="Leads edit it later on the Codebook page; an import may add categories.",
    )

    def clean_codebook(self):
        return self.cleaned_data["codebook"] or "study"

    def clean_name(self):
        name = self.cleaned_data["name"]
        if problem := not_one_line("name", name):
            raise forms.ValidationError(problem)
        return name


class GitHubTokenForm(forms.Form):
    token = forms.CharField(
        label="GitHub token",
        max_length=255,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted, never shown again. Leave empty to keep the current one.",
    )
    clear = forms.BooleanField(required=False, label="Remove the project's token")


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)
    username = forms.RegexField(
        r"^[\w.@+-]{1,150}$",
        max_length=150,
        required=False,
        help_text="Optional: only this account (or a new one of this name) may use the link.",
    )
    email = forms.EmailField(required=False, help_text="Optional: the invitee's address.")


class SignUpForm(UserCreationForm):
    """A new account opened from an invitation link (Django's password validators apply)."""

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, required=False)
    remove = forms.BooleanField(required=False)
