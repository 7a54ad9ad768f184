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


class AppSettingsForm(forms.Form):
    name = forms.CharField(max_length=255, required=False, help_text="Shown in lists; the id when empty.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000)


class DeleteAppForm(forms.Form):
    """Deleting an app asks for its id, typed: a click alone never deletes one."""

    confirm = forms.CharField(label="Type the app's id to confirm", max_length=255, strip=True)

    def __init__(self, app_id: str, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.app_id = app_id
        self.fields["confirm"].label = f"Type the app's id, {app_id}, to confirm"
        self.fields["confirm"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm(self) -> str:
        typed: str = self.cleaned_data["confirm"]
        if typed != self.app_id:
            raise forms.ValidationError(
                f"“{typed}” is not this app's id. Type {self.app_id} exactly to delete the app; nothing was deleted."
            )
        return typed
