from django import forms
from django.core.validators import RegexValidator

# The API's rule for ids; checked here too so that a typo is explained before anything is sent.
clarifai_id = RegexValidator(
    r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$", "Use letters, digits, '_', '-' or '.', not starting with '-' or '.'."
)


class AppForm(forms.Form):
    id = forms.CharField(
        label="App id", max_length=255, validators=[clarifai_id], help_text="Used in URLs; cannot change later."
    )
    name = forms.CharField(max_length=255, required=False, help_text="Shown in lists; the id when empty.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
