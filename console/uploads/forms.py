"""The upload form: files (pictures, zip archives, CSV files), URLs, and what the whole upload sets."""

from typing import Any

from django import forms
from django.conf import settings

from console.uploads.intake import parse_concepts, parse_metadata


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    # Not a FileField: it refuses an empty file outright, and here each file is judged on its own.
    file = forms.Field(
        label="Files",
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,.zip,.csv", "data-upload-input": ""}),
        help_text="Pictures, zip archives of pictures, and CSV files with a url column (and concepts, metadata, id).",
    )
    urls = forms.CharField(
        label="URLs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://example.com/picture.jpg"}),
        help_text="One a line.",
    )
    concepts = forms.CharField(
        label="Concepts for every input",
        required=False,
        max_length=2000,
        help_text="Concept ids, separated by commas; add :no for a negative label (cat, dog:no).",
    )
    metadata = forms.CharField(
        label="Metadata for every input",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": '{"source": "camera 2"}'}),
        help_text="A JSON object; a CSV row's own metadata keys win over these.",
    )
    dataset_id = forms.ChoiceField(label="Add to dataset", required=False)

    def __init__(self, *args: Any, datasets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["dataset_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "No dataset")] + [(d, d) for d in datasets]
        if not datasets:
            field.help_text = "This app has no datasets."

    def clean_file(self) -> list[Any]:
        files = self.files.getlist(self.add_prefix("file"))
        if len(files) > settings.DATA_UPLOAD_MAX_NUMBER_FILES:
            raise forms.ValidationError("Too many files at once: put them in a zip archive.")
        return files

    def clean_concepts(self) -> list[list[Any]]:
        try:
            return parse_concepts(self.cleaned_data["concepts"])
        except ValueError as e:
            raise forms.ValidationError(str(e)) from None

    def clean_metadata(self) -> dict[str, Any]:
        try:
            return parse_metadata(self.cleaned_data["metadata"])
        except ValueError as e:
            raise forms.ValidationError(str(e)) from None

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data is not None and not data.get("file") and not (data.get("urls") or "").strip():
            raise forms.ValidationError("Choose files to upload, or give URLs.")
        return data
