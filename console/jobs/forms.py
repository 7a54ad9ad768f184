"""Starting a job by hand: input ids, one a line, and what to do to them (until the grid's selection
starts jobs itself)."""

import json
import re
from typing import Any

from django import forms

from console.jobs.models import Job

ID_LIST = re.compile(r"[\s,]+")
MAX_IDS = 100_000


class StartJobForm(forms.Form):
    app_id = forms.CharField(label="App id", max_length=255)
    input_ids = forms.CharField(
        label="Input ids",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One a line (or separated by commas or spaces).",
    )
    kind = forms.ChoiceField(label="Action", choices=Job.KINDS)
    concepts = forms.CharField(
        required=False, max_length=2000, help_text="Concept ids, separated by commas (add or remove concepts)."
    )
    positive = forms.BooleanField(
        required=False, initial=True, label="Positive label (yes)", help_text="Unticked: a negative label (no)."
    )
    metadata = forms.CharField(
        required=False,
        max_length=10_000,
        help_text='Set metadata keys: a JSON object, e.g. {"split": "test"}. Remove metadata keys: the keys, '
        "separated by commas (dots for nested keys).",
    )
    dataset_id = forms.CharField(required=False, max_length=255, label="Dataset id")

    def clean_input_ids(self) -> list[str]:
        ids = [i for i in ID_LIST.split(self.cleaned_data["input_ids"]) if i]
        if not ids:
            raise forms.ValidationError("Give at least one input id.")
        if len(ids) > MAX_IDS:
            raise forms.ValidationError(f"At most {MAX_IDS:,} input ids at once.")
        return ids

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind in (Job.ADD_CONCEPTS, Job.REMOVE_CONCEPTS):
            concepts = [c.strip() for c in data.get("concepts", "").split(",") if c.strip()]
            if not concepts:
                self.add_error("concepts", "Give the concepts to add or remove.")
            data["params"] = {"concepts": concepts}
            if kind == Job.ADD_CONCEPTS:
                data["params"]["value"] = 1 if data.get("positive") else 0
        elif kind == Job.SET_METADATA:
            try:
                metadata = json.loads(data.get("metadata") or "")
            except ValueError as e:
                self.add_error("metadata", f"This is not valid JSON: {e}.")
                return data
            if not isinstance(metadata, dict) or not metadata:
                self.add_error("metadata", "Give a JSON object with at least one key.")
            data["params"] = {"metadata": metadata}
        elif kind == Job.REMOVE_METADATA:
            keys = [k.strip() for k in (data.get("metadata") or "").split(",") if k.strip()]
            if not keys:
                self.add_error("metadata", "Give the metadata keys to remove.")
            data["params"] = {"keys": keys}
        elif kind in (Job.ADD_TO_DATASET, Job.REMOVE_FROM_DATASET):
            if not data.get("dataset_id"):
                self.add_error("dataset_id", "Give the dataset's id.")
            data["params"] = {"dataset_id": data.get("dataset_id", "")}
        else:
            data["params"] = {}
        return data
