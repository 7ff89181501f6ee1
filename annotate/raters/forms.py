"""The form that adds a machine rater (the API takes the same fields)."""

from django import forms

from annotate.models import Rater
from annotate.raters.runs import AUDITED


class RaterForm(forms.Form):
    kind = forms.ChoiceField(choices=Rater.Kind.choices, initial=Rater.Kind.BUILTIN)
    name = forms.CharField(max_length=100)
    model = forms.CharField(max_length=200, required=False, help_text="The endpoint's model.")
    base_url = forms.URLField(
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="OpenAI-compatible, e.g. http://localhost:8000/v1",
    )
    api_key = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted; never shown again.",
    )
    prompt_version = forms.CharField(max_length=40, initial="v1", required=False)
    temperature = forms.FloatField(min_value=0.0, max_value=2.0, initial=0.0)
    seed = forms.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    runs_per_start = forms.IntegerField(min_value=1, max_value=10, initial=1, label="k runs")
    visible_in_adjudication = forms.BooleanField(
        required=False, label="Leads see its labels in adjudication (marked machine)"
    )


class RaterChangeForm(forms.Form):
    """A rater's settings as a lead changes them on the raters page (its kind stays; a
    blank key keeps the stored one)."""

    name = forms.CharField(max_length=100)
    model = forms.CharField(max_length=200, required=False)
    base_url = forms.URLField(max_length=500, required=False, assume_scheme="https")
    api_key = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="New key",
        help_text="Blank keeps the stored key.",
    )
    clear_api_key = forms.BooleanField(required=False, label="Remove the stored key")
    prompt_version = forms.CharField(max_length=40, required=False)
    temperature = forms.FloatField(min_value=0.0, max_value=2.0)
    seed = forms.IntegerField(required=False, min_value=-(2**31), max_value=2**31 - 1)
    runs_per_start = forms.IntegerField(min_value=1, max_value=10, label="k runs")
    visible_in_adjudication = forms.BooleanField(
        required=False, label="Leads see its labels in adjudication (marked machine)"
    )

    @classmethod
    def for_rater(cls, rater, data=None):
        initial = {name: getattr(rater, name) for name in cls.base_fields if name in AUDITED}
        return cls(data, initial=initial, prefix=f"rater-{rater.pk}")
