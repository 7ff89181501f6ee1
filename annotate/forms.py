from django import forms

from .limits import too_long
from .models import Project, Role


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
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "guidelines": forms.Textarea(attrs={"rows": 10}),
        }

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


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, required=False)
    remove = forms.BooleanField(required=False)
