"""How every form renders: one field group markup for the whole console (`{{ form }}` in a template); and
the fields more than one part of the console uses."""

import json
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting


class ConsoleFormRenderer(TemplatesSetting):
    form_template_name = "core/form.html"
    field_template_name = "core/field.html"


class JSONObjectField(forms.CharField):
    """Metadata typed as a JSON object in a text area: cleans to a dict ({} when left empty). Text that is
    not JSON is refused with the line and column where it goes wrong, then `refused` (a sentence, or "");
    JSON that is not an object is refused with `example`, an object to copy."""

    def __init__(self, *, example: str, refused: str = "", rows: int = 5, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}))
        super().__init__(**kwargs)
        self.example = example
        self.refused = refused

    def clean(self, value: Any) -> dict[str, Any]:
        text = super().clean(value).strip()
        if not text:
            return {}
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as e:
            where = f"This is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})."
            raise forms.ValidationError(f"{where} {self.refused}".strip()) from None
        if not isinstance(parsed, dict):
            raise forms.ValidationError(f"Metadata must be a JSON object, like {self.example}.")
        return parsed
