"""The forms of the datasets pages, checked here so that nothing is sent when they are wrong."""

from django import forms

from console.apps.forms import clarifai_id
from console.core.forms import JSONObjectField
from console.datasets.status import FORMATS


class DatasetEditForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10_000)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=100_000, help_text="Longer notes."
    )
    metadata = JSONObjectField(
        example='{"source": "camera 2"}',
        refused="Nothing was saved.",
        max_length=100_000,
        help_text='A JSON object, like {"source": "camera 2"}.',
    )


class DatasetForm(DatasetEditForm):
    id = forms.CharField(
        label="Dataset id", max_length=255, validators=[clarifai_id], help_text="Used in URLs; cannot change later."
    )
    field_order = ["id", "description", "notes", "metadata"]


class VersionForm(forms.Form):
    id = forms.CharField(
        label="Version id",
        max_length=255,
        required=False,
        validators=[clarifai_id],
        help_text="Empty: the API makes one.",
    )
    description = forms.CharField(max_length=10_000, required=False)


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(name, label) for name, (_, _, label) in FORMATS.items()], initial="protobuf")
