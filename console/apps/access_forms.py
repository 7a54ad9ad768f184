"""The forms of an app's Access pages: a collaborator's scopes, a new collaborator, a new key.

Scopes are the Clarifai API's, `Resource:Verb` (resources_pb2.Collaborator.scopes, Key.scopes; "All" is
every scope). A preset names a usual set; "custom" takes the boxes ticked.
"""

from django import forms

# The scopes offered, as the API names them (those the local API enforces, console/localapi/handlers).
RESOURCES = ("Apps", "Inputs", "Concepts", "Annotations", "Datasets", "Tasks")
VERBS = ("Get", "Add", "Patch", "Delete")
SCOPES = [
    f"{resource}:{verb}" for resource in RESOURCES for verb in VERBS if (resource, verb) != ("Concepts", "Delete")
]
# Only the app's owner changes or deletes the app itself (the API refuses these to a collaborator).
OWNER_ONLY = frozenset({"Apps:Patch", "Apps:Delete", "Apps:Add"})
COLLABORATOR_SCOPES = [s for s in SCOPES if s not in OWNER_ONLY]

READ = ["Apps:Get", "Inputs:Get", "Concepts:Get", "Annotations:Get", "Datasets:Get", "Tasks:Get"]
LABEL = [*READ, "Annotations:Add", "Annotations:Patch"]
REVIEW = [*LABEL, "Annotations:Delete", "Tasks:Patch"]
EDIT = list(COLLABORATOR_SCOPES)
CUSTOM = "custom"
# (value, label, scopes) of the presets: a collaborator's, a key's.
COLLABORATOR_PRESETS = [
    ("viewer", "Viewer: see inputs, concepts, annotations, datasets and tasks", READ),
    ("labeler", "Labeler: a viewer who also annotates", LABEL),
    ("reviewer", "Reviewer: a labeler who also reviews (changes tasks, deletes annotations)", REVIEW),
    ("editor", "Editor: adds, changes and deletes inputs, concepts, annotations, datasets and tasks", EDIT),
    ("all", "Full access: every scope (the app's settings and deletion stay the owner's)", ["All"]),
]
KEY_PRESETS = [
    ("read", "Read only: see inputs, concepts, annotations and datasets", READ),
    ("write", "Read and write: also add, change and delete them", EDIT),
    ("all", "Full access to this app", ["All"]),
]


def _preset_choices(presets: list[tuple[str, str, list[str]]]) -> list[tuple[str, str]]:
    return [(value, label) for value, label, _ in presets] + [(CUSTOM, "Custom: the scopes ticked below")]


class ScopesForm(forms.Form):
    """A preset, or the scopes ticked."""

    presets = COLLABORATOR_PRESETS
    offered = COLLABORATOR_SCOPES

    preset = forms.ChoiceField(label="Access", widget=forms.RadioSelect, choices=())
    scopes = forms.MultipleChoiceField(
        label="Scopes", required=False, widget=forms.CheckboxSelectMultiple, choices=(), help_text="For “Custom”."
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["preset"].choices = _preset_choices(self.presets)  # type: ignore[attr-defined]
        self.fields["scopes"].choices = [(s, s) for s in self.offered]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        preset = data.get("preset")
        if preset == CUSTOM:
            if not data.get("scopes"):
                self.add_error("scopes", "Tick at least one scope, or choose one of the presets.")
        elif preset:
            data["scopes"] = next(scopes for value, _, scopes in self.presets if value == preset)
        return data

    @classmethod
    def initial_for(cls, scopes: list[str]) -> dict[str, object]:
        """The form's first values for these scopes: their preset, else custom with them ticked."""
        for value, _, preset_scopes in cls.presets:
            if sorted(preset_scopes) == sorted(scopes):
                return {"preset": value, "scopes": scopes}
        return {"preset": CUSTOM, "scopes": scopes}


class CollaboratorForm(ScopesForm):
    who = forms.CharField(
        label="Clarifai user id or email",
        max_length=255,
        help_text="The person's Clarifai account: its user id, or the email it was made with.",
    )
    field_order = ["who", "preset", "scopes"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["who"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})


class KeyForm(ScopesForm):
    presets = KEY_PRESETS
    offered = [s for s in SCOPES if s != "Apps:Add"]  # a key of one app makes no apps

    description = forms.CharField(
        max_length=200, help_text="What the key is for, to recognise it later (e.g. “nightly export”)."
    )
    field_order = ["description", "preset", "scopes"]
