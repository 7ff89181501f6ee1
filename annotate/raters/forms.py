"""The form that adds a machine rater (the API takes the same fields)."""

from django import forms

from annotate.models import Rater


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
