"""Editing an input's concepts and metadata: checked here, so that nothing is sent when it is wrong.

The concepts are edited by name: the input's own concepts are rows (an id in a hidden field, yes/no,
remove), and one "add" field takes a name or an id of the app's concepts. Which concept that is, and
whether a new one may be created, the view works out with the API (console/concepts/catalog.py).
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from console.clarifai import ClarifaiError
from console.concepts.catalog import Catalog
from console.core.forms import JSONObjectField

YES, NO = "yes", "no"
WORDS = {YES: 1.0, NO: 0.0}


@dataclass
class ConceptRow:
    """One of the input's concepts in the editor."""

    id: str
    name: str
    value: str  # "yes", "no", or a number from 0 to 1 as the API has it
    removed: bool = False

    @property
    def choices(self) -> list[tuple[str, str]]:
        choices = [(YES, "yes"), (NO, "no")]
        if self.value not in WORDS:
            choices.append((self.value, self.value))
        return choices


def value_word(value: float) -> str:
    return YES if value == 1 else NO if value == 0 else f"{value:g}"


def _value(text: str) -> float | None:
    text = text.strip().lower()
    if text in WORDS:
        return WORDS[text]
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value <= 1 else None


class InputEditForm(forms.Form):
    add = forms.CharField(
        label="Add a concept",
        required=False,
        max_length=255,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "list": "concept-choices"}),
        help_text="A name (or id) of this app's concepts.",
    )
    add_value = forms.ChoiceField(label="Label", choices=[(YES, "yes"), (NO, "no")], initial=YES, required=False)
    metadata = JSONObjectField(example='{"split": "train"}', rows=10, help_text="A JSON object.")

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        rows: list[ConceptRow] | None = None,
        catalog: Catalog | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.rows = rows or []
        self.catalog = catalog
        self.unknown = ""  # a name that matches no concept: the page asks whether to create it
        self.created = ""  # the concept created on confirmation, for the message

    @classmethod
    def posted(cls, data: QueryDict, catalog: Catalog) -> "InputEditForm":
        """The form as sent, its rows in their order (named by their ids until the page names them)."""
        ids, removed = data.getlist("concept"), set(data.getlist("remove"))
        values = (data.getlist("value") + [YES] * len(ids))[: len(ids)]
        rows = [
            ConceptRow(concept_id, concept_id, value, concept_id in removed)
            for concept_id, value in zip(ids, values, strict=True)
        ]
        return cls(data, rows=rows, catalog=catalog)

    def name_rows(self, names: dict[str, str]) -> None:
        for row in self.rows:
            row.name = names.get(row.id, row.name)

    @property
    def confirmed(self) -> str:
        """The name the person confirmed creating as a new concept ("" if none)."""
        return (self.data.get("create") or "").strip() if self.is_bound else ""

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        concepts: dict[str, float] = {}
        for row in self.rows:
            value = _value(row.value)
            if value is None:
                raise forms.ValidationError(f"“{row.value}” for {row.name} is not yes, no or a value from 0 to 1.")
            if not row.removed:
                concepts[row.id] = value
        data["concepts"] = concepts
        if data.get("add") and self.catalog is not None and not self.errors:
            self._add(data["add"], WORDS.get(data.get("add_value") or YES, 1.0), concepts)
        return data

    def _add(self, text: str, value: float, concepts: dict[str, float]) -> None:
        """Add the concept `text` names; one that does not exist is created only once confirmed."""
        assert self.catalog is not None
        try:
            found = self.catalog.find(text)
        except ClarifaiError as e:
            self.add_error("add", f"Could not look “{text}” up: {e.message}")
            return
        if len(found) > 1:
            ids = ", ".join(c.id for c in found)
            self.add_error("add", f"Several concepts are named “{text}”: type the id of the one you mean ({ids}).")
        elif found:
            concepts[found[0].id] = value
        elif self.confirmed == text:
            try:
                concept = self.catalog.create(text)
            except ClarifaiError as e:
                # Saving again looks the name up first, so it never creates the concept twice.
                self.add_error(
                    "add", f"Could not create “{text}”: {e.message} If it was created after all, saving again uses it."
                )
                return
            self.created = f"Concept “{concept.name}” created (id {concept.id})."
            concepts[concept.id] = value
        else:
            self.unknown = text
            self.add_error("add", f"“{text}” is not a concept of this app. Create it?")


def initial_rows(concepts: list[Any]) -> list[ConceptRow]:
    return [ConceptRow(c.id, c.name, value_word(c.value)) for c in concepts]
