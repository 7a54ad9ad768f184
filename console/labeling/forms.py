"""The forms of the tasks pages: making a task and changing one.

Choices come from the API (the app's datasets, concepts and people), but what was picked is not held to
them: a dataset or concept removed since the page was shown, or a labeler the API does not know, goes
to the API, which refuses it in its own words (shown at the field). The API also has the last word on
what a task needs (a labeler, a reviewer for review, a dataset with inputs): the form does not say it
first in other words.
"""

from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from django import forms
from django.utils.text import slugify

from console.apps.forms import clarifai_id
from console.concepts.catalog import is_clarifai_id

TaskPb = resources_pb2.Task
Worker = resources_pb2.TaskWorker
Review = resources_pb2.TaskReview

TYPES = [
    (str(TaskPb.CONCEPTS_CLASSIFICATION), "Classification: which concepts each input shows"),
    (str(TaskPb.BOUNDING_BOX_DETECTION), "Bounding boxes: where each concept is in the picture"),
]
SPLITS = [
    ("FULL", "Everyone labels every input"),
    ("PARTITIONED", "Share the inputs out among the labelers"),
]
REVIEWS = [
    ("NONE", "No review: answers count as submitted"),
    ("MANUAL", "A reviewer approves or rejects each answer"),
    ("CONSENSUS", "Labelers who agree approve an input; the rest goes to a reviewer"),
]


@dataclass(frozen=True)
class Choices:
    """What a task form offers: (value, label) pairs from the API."""

    datasets: list[tuple[str, str]]
    concepts: list[tuple[str, str]]
    people: list[tuple[str, str]]


class OpenChoiceField(forms.ChoiceField):
    """A choice among those listed, or any other well-formed id (the API decides whether it exists)."""

    def valid_value(self, value: Any) -> bool:
        return is_clarifai_id(str(value))


class OpenMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        return is_clarifai_id(str(value))


def _boxes(help_text: str = "", label: str | None = None) -> OpenMultipleChoiceField:
    return OpenMultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "choices"}),
        help_text=help_text,
        label=label,
    )


class TaskEditForm(forms.Form):
    """What can change once a task exists (PatchTasks)."""

    name = forms.CharField(max_length=255, help_text="What labelers see at the top of their work.")
    concepts = _boxes("The concepts labelers choose from, in this order.")
    labelers = _boxes("The app's owner and collaborators, and people already working on its tasks.")
    reviewers = _boxes("For review by hand or by consensus: who decides.")
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=10_000,
        help_text="Shown above every input labelers see.",
    )

    # Lists the API would keep as they were when sent empty: saying so beats saving nothing in silence.
    must_pick = {"concepts": "A task needs at least one concept", "labelers": "A task needs at least one labeler"}

    def __init__(self, choices: Choices, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self._offer("concepts", choices.concepts)
        self._offer("labelers", choices.people)
        self._offer("reviewers", choices.people)

    def _offer(self, name: str, options: list[tuple[str, str]]) -> None:
        """The options, with whatever is already picked that is not among them (so nothing is lost)."""
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        picked = self[name].value() or []
        known = {value for value, _ in options}
        field.choices = options + [(value, value) for value in picked if value not in known]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name, words in self.must_pick.items():
            if name in self.fields and name not in self.errors and not data.get(name):
                self.add_error(name, f"{words}; nothing was saved.")
        return data


class TaskForm(TaskEditForm):
    """A new task over a dataset (PostTasks). What it needs, the API says."""

    must_pick: dict[str, str] = {}

    id = forms.CharField(
        label="Task id",
        max_length=255,
        required=False,
        validators=[clarifai_id],
        help_text="Used in URLs; cannot change later. Empty: made from the name.",
    )
    dataset = OpenChoiceField(help_text="The task labels this dataset's inputs.")
    type = forms.ChoiceField(choices=TYPES, initial=TYPES[0][0], widget=forms.RadioSelect)
    split = forms.ChoiceField(label="How inputs are split", choices=SPLITS, initial="FULL", widget=forms.RadioSelect)
    workers_per_input = forms.IntegerField(
        label="Labelers per input",
        min_value=1,
        initial=1,
        help_text="When the inputs are shared out: how many labelers answer each one.",
    )
    review = forms.ChoiceField(choices=REVIEWS, initial="NONE", widget=forms.RadioSelect)
    approval_threshold = forms.IntegerField(
        label="Labelers who must agree",
        min_value=1,
        initial=2,  # one labeler "agreeing" with no one would approve everything
        help_text="For consensus: this many labelers giving the same answer approve the input.",
    )
    field_order = [
        "name",
        "id",
        "dataset",
        "concepts",
        "type",
        "labelers",
        "split",
        "workers_per_input",
        "review",
        "reviewers",
        "approval_threshold",
        "instructions",
    ]

    def __init__(self, choices: Choices, *args: Any, **kwargs: Any) -> None:
        super().__init__(choices, *args, **kwargs)
        dataset = self.fields["dataset"]
        assert isinstance(dataset, forms.ChoiceField)
        dataset.choices = [("", "Choose a dataset"), *choices.datasets]
        self.fields["id"].widget.attrs.update({"data-id-from": "id_name", "autocomplete": "off", "spellcheck": "false"})

    def clean_id(self) -> str:
        return str(self.cleaned_data["id"] or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("id") and data.get("name"):
            suggested = slugify(data["name"])[:255]
            if suggested and is_clarifai_id(suggested):
                data["id"] = suggested
            else:
                self.add_error("id", "Give the task an id: letters, digits, '_', '-' or '.'.")
        return data

    def task(self) -> resources_pb2.Task:
        """The task as PostTasks takes it."""
        data = self.cleaned_data
        task = TaskPb(
            id=data["id"],
            name=data["name"],
            description=data["instructions"],
            type=TaskPb.TaskType.ValueType(int(data["type"])),
        )
        task.input_source.type = resources_pb2.TaskInputSource.DATASET
        task.input_source.id = data["dataset"]
        set_concepts(task, data["concepts"], dict(self.choices.concepts))
        task.worker.strategy = Worker.TaskWorkerStrategy.Value(data["split"])
        task.worker.type = Worker.WORKER_HUMAN
        set_people(task, data["labelers"], data["reviewers"] if data["review"] != "NONE" else [])
        if data["split"] == "PARTITIONED":
            task.worker.partitioned_strategy_info.type = resources_pb2.TaskWorkerPartitionedStrategyInfo.EVENLY
            task.worker.partitioned_strategy_info.workers_per_input = data["workers_per_input"]
        task.review.strategy = Review.TaskReviewStrategy.Value(data["review"])
        if data["review"] == "MANUAL":
            task.review.manual_strategy_info.sample_percentage = 1.0
        elif data["review"] == "CONSENSUS":
            info = task.review.consensus_strategy_info
            info.approval_threshold = info.approval_threshold_labelers = data["approval_threshold"]
        task.ai_assistant.SetInParent()  # none: people label
        return task


def set_concepts(task: resources_pb2.Task, concept_ids: list[str], names: dict[str, str]) -> None:
    del task.concepts[:]
    del task.concept_ids[:]
    task.concept_ids.extend(concept_ids)
    for concept_id in concept_ids:
        task.concepts.add().concept.CopyFrom(resources_pb2.Concept(id=concept_id, name=names.get(concept_id, "")))


def set_people(task: resources_pb2.Task, labelers: list[str], reviewers: list[str]) -> None:
    """The task's labelers and reviewers, replacing every list the API reads them from."""
    del task.worker.workers[:]
    del task.worker.user_ids[:]
    del task.worker.users[:]
    for user_id in labelers:
        task.worker.workers.add().user.id = user_id
    task.worker.user_ids.extend(labelers)
    del task.review.users[:]
    del task.review.user_ids[:]
    for user_id in reviewers:
        task.review.users.add().id = user_id
    task.review.user_ids.extend(reviewers)


def worker_ids(task: resources_pb2.Task) -> list[str]:
    """The task's labelers, from whichever of its lists the API filled."""
    found = [w.user.id for w in task.worker.workers if w.user.id]
    return list(dict.fromkeys([*found, *task.worker.user_ids, *(u.id for u in task.worker.users)]))


def reviewer_ids(task: resources_pb2.Task) -> list[str]:
    return list(dict.fromkeys([*(u.id for u in task.review.users), *task.review.user_ids]))
