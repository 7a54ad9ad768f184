"""Editing an input's concepts and metadata: checked here, so that nothing is sent when it is wrong."""

import json
import re
from typing import Any

from django import forms

CONCEPT_LINE = re.compile(r"^(?P<id>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254})\s*(?:[:=]\s*(?P<value>\S+))?$")
WORDS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0}


class InputEditForm(forms.Form):
    concepts = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        required=False,
        help_text="One concept id per line; add “: 0” (or “: no”) for a negative label, a value from 0 to 1 otherwise.",
    )
    metadata = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        required=False,
        help_text="A JSON object.",
    )

    def clean_concepts(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for number, line in enumerate(self.cleaned_data["concepts"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            match = CONCEPT_LINE.match(line)
            if not match:
                raise forms.ValidationError(
                    f"Line {number}: “{line}” is not a concept id (letters, digits, '_', '-', '.')."
                )
            raw = (match["value"] or "1").lower()
            try:
                value = WORDS[raw] if raw in WORDS else float(raw)
            except ValueError:
                raise forms.ValidationError(f"Line {number}: “{match['value']}” is not a value from 0 to 1.") from None
            if not 0 <= value <= 1:
                raise forms.ValidationError(f"Line {number}: the value must be from 0 to 1, not {match['value']}.")
            values[match["id"]] = value
        return values

    def clean_metadata(self) -> dict[str, Any]:
        text = self.cleaned_data["metadata"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise forms.ValidationError(
                f"This is not valid JSON: {e.msg} (line {e.lineno}, column {e.colno})."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Metadata must be a JSON object, like {"split": "train"}.')
        return value


def initial_concepts(concepts: list[Any]) -> str:
    return "\n".join(c.id if c.value == 1 else f"{c.id}: {c.value:g}" for c in concepts)
