from django import forms

from console.apps.forms import clarifai_id


class ConceptForm(forms.Form):
    id = forms.CharField(label="Concept id", max_length=255, validators=[clarifai_id])
    name = forms.CharField(max_length=255, required=False, help_text="The id when empty.")


class RenameForm(forms.Form):
    name = forms.CharField(max_length=255)


class RelationForm(forms.Form):
    predicate = forms.ChoiceField(
        label="Relation",
        choices=[
            ("hyponym", "is a kind of (hyponym)"),
            ("hypernym", "is a parent of (hypernym)"),
            ("synonym", "means the same as (synonym)"),
        ],
    )
    concept = forms.CharField(
        label="Concept",
        max_length=255,
        help_text="Its name or id.",
        widget=forms.TextInput(attrs={"list": "relation-concepts", "autocomplete": "off", "spellcheck": "false"}),
    )
