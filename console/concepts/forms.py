from django import forms

from console.apps.forms import clarifai_id


class ConceptForm(forms.Form):
    id = forms.CharField(label="Concept id", max_length=255, validators=[clarifai_id])
    name = forms.CharField(max_length=255, required=False, help_text="The id when empty.")


class RenameForm(forms.Form):
    name = forms.CharField(max_length=255)
