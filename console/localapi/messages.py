"""Stored rows as clarifai-grpc messages: what the handlers put into responses."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from google.protobuf import json_format, timestamp_pb2
from google.protobuf.wrappers_pb2 import UInt64Value

from console.localapi import media, status
from console.localapi.handlers.common import dict_to_struct
from console.localapi.models import (
    Annotation,
    App,
    Concept,
    Dataset,
    DatasetVersion,
    DatasetVersionExport,
    Input,
    Task,
    TaskAssignment,
    User,
)

# What input_message() reads besides the input row; prefetch these when listing.
INPUT_RELATIONS = ("input_concepts__concept", "datasets")


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def user_message(user: User) -> resources_pb2.User:
    message = resources_pb2.User(
        id=user.id, first_name=user.first_name, last_name=user.last_name, created_at=timestamp(user.created_at)
    )
    if user.email:
        message.user_detail.primary_email = user.email
    return message


def app_message(app: App) -> resources_pb2.App:
    message = resources_pb2.App(
        id=app.app_id,
        name=app.name,
        description=app.description,
        user_id=app.user_id,
        default_language=app.default_language,
        default_workflow_id=app.default_workflow_id,
        notes=app.notes,
        created_at=timestamp(app.created_at),
        modified_at=timestamp(app.modified_at),
    )
    dict_to_struct(app.metadata, message.metadata, f"app {app.pk}")
    return message


def concept_message(concept: Concept) -> resources_pb2.Concept:
    message = resources_pb2.Concept(
        id=concept.concept_id,
        name=concept.name,
        language=concept.language,
        definition=concept.definition,
        app_id=concept.app.app_id,
        created_at=timestamp(concept.created_at),
        value=1.0,  # printed even when 0 (cl_show_if_empty), and a concept listed on its own is not a "no"
    )
    dict_to_struct(concept.metadata, message.metadata, f"concept {concept.pk}")
    return message


def dataset_message(
    dataset: Dataset, latest_version: DatasetVersion | None = None, origin: str = ""
) -> resources_pb2.Dataset:
    """A dataset; `version` is its latest version, whose metrics are the counts the proto carries."""
    message = resources_pb2.Dataset(
        id=dataset.dataset_id,
        description=dataset.description,
        notes=dataset.notes,
        app_id=dataset.app.app_id,
        user_id=dataset.app.user_id,
        created_at=timestamp(dataset.created_at),
        modified_at=timestamp(dataset.modified_at),
    )
    dict_to_struct(dataset.metadata, message.metadata, f"dataset {dataset.pk}")
    if latest_version is not None:
        latest_version.dataset = dataset
        message.version.CopyFrom(dataset_version_message(latest_version, origin))
    return message


def version_metrics(stored: dict[str, Any]) -> dict[str, resources_pb2.DatasetVersionMetrics]:
    """The metrics a worker stored, as DatasetVersion.metrics: "/" for the whole version and
    "/concepts/{id}" for each concept, whose inputs_count counts the inputs labelled with it either way
    and positive_input_tags_count the positive labels (so the negative ones are the difference)."""
    metrics = {}
    overall = stored.get("/")
    if overall:
        metrics["/"] = resources_pb2.DatasetVersionMetrics(
            inputs_count=UInt64Value(value=overall["inputs"]),
            unlabeled_inputs_count=UInt64Value(value=overall["unlabeled"]),
            inputs_with_metadata_count=UInt64Value(value=overall["with_metadata"]),
            positive_input_tags_count=UInt64Value(value=overall["positive"]),
        )
    for concept_id, counts in stored.get("concepts", {}).items():
        metrics[f"/concepts/{concept_id}"] = resources_pb2.DatasetVersionMetrics(
            inputs_count=UInt64Value(value=counts["positive"] + counts["negative"]),
            positive_input_tags_count=UInt64Value(value=counts["positive"]),
        )
    return metrics


def export_message(export: DatasetVersionExport, origin: str) -> resources_pb2.DatasetVersionExport:
    message = resources_pb2.DatasetVersionExport(
        format=resources_pb2.DatasetVersionExportFormat.ValueType(export.format),
        status=status.make(status.as_code(export.status_code), export.status_details),
    )
    if export.status_code == status.EXPORT_SUCCESS:
        message.url = f"{origin}/v2/exports/{export.key}.zip"
        message.size = export.size
    return message


EXPORT_FIELDS = {
    resources_pb2.DatasetVersionExportFormat.CLARIFAI_DATA_PROTOBUF: "clarifai_data_protobuf",
    resources_pb2.DatasetVersionExportFormat.CLARIFAI_DATA_JSON: "clarifai_data_json",
    resources_pb2.DatasetVersionExportFormat.COCO: "coco",
}


def dataset_version_message(
    version: DatasetVersion, origin: str, exports: Iterable[DatasetVersionExport] = ()
) -> resources_pb2.DatasetVersion:
    dataset = version.dataset
    message = resources_pb2.DatasetVersion(
        id=version.version_id,
        dataset_id=dataset.dataset_id,
        app_id=dataset.app.app_id,
        user_id=dataset.app.user_id,
        description=version.description,
        status=status.make(status.as_code(version.status_code), version.status_details),
        created_at=timestamp(version.created_at),
        modified_at=timestamp(version.modified_at),
    )
    if version.ignore_empty_inputs:
        message.annotation_filter_config.ignore_empty_inputs = True
    for key, metrics in version_metrics(version.metrics).items():
        message.metrics[key].CopyFrom(metrics)
    for export in exports:
        field = EXPORT_FIELDS.get(resources_pb2.DatasetVersionExportFormat.ValueType(export.format))
        if field:
            getattr(message.export_info, field).CopyFrom(export_message(export, origin))
    dict_to_struct(version.metadata, message.metadata, f"dataset version {version.pk}")
    return message


def input_message(item: Input, origin: str) -> resources_pb2.Input:
    """An input as the API returns it. Lists prefetch INPUT_RELATIONS to keep a constant query count."""
    message = resources_pb2.Input(
        id=item.input_id,
        created_at=timestamp(item.created_at),
        modified_at=timestamp(item.modified_at),
        status=status.make(status.as_code(item.status_code), item.status_details),
        dataset_ids=[dataset.dataset_id for dataset in item.datasets.all()],
    )
    data = message.data
    if item.kind == Input.IMAGE:
        image = data.image
        if item.source_url:
            image.url = item.source_url
            image.allow_duplicate_url = item.allow_duplicate_url
        if item.media_key and item.status_code == status.INPUT_SUCCESS:
            image.hosted.CopyFrom(media.hosted_url(origin, item))
            image.image_info.CopyFrom(
                resources_pb2.ImageInfo(
                    width=item.width or 0, height=item.height or 0, format=item.image_format, color_mode=item.color_mode
                )
            )
    elif item.kind == Input.TEXT:
        if item.source_url:
            data.text.url = item.source_url
        data.text.raw = item.text
    for link in item.input_concepts.all():
        data.concepts.append(
            resources_pb2.Concept(id=link.concept.concept_id, name=link.concept.name, value=link.value)
        )
    dict_to_struct(item.metadata, data.metadata, f"input {item.pk}")
    return message


# Labeling tasks, assignments and annotations (console.localapi.labeling)


def task_message(
    task: Task, workers: list[str], reviewers: list[str], concepts: dict[str, str], metrics: "TaskCounts | None"
) -> resources_pb2.Task:
    """A task as the API returns it; `concepts` maps the task's concept ids to their names."""
    message = resources_pb2.Task(
        id=task.task_id,
        name=task.name,
        description=task.description,
        type=resources_pb2.Task.TaskType.ValueType(task.task_type),
        app_id=task.app.app_id,
        user_id=task.app.user_id,
        status=status.make(status.as_code(task.status_code), task.status_details),
        priority=resources_pb2.Task.TaskPriority.ValueType(task.priority),
        created_at=timestamp(task.created_at),
        modified_at=timestamp(task.modified_at),
        concept_ids=task.concept_ids,
    )
    message.input_source.type = resources_pb2.TaskInputSource.TaskInputSourceType.ValueType(task.input_source_type)
    message.input_source.id = task.input_source_id
    for concept_id in task.concept_ids:
        message.concepts.add().concept.CopyFrom(
            resources_pb2.Concept(id=concept_id, name=concepts.get(concept_id, concept_id), value=1.0)
        )
    worker = message.worker
    worker.strategy = resources_pb2.TaskWorker.TaskWorkerStrategy.ValueType(task.worker_strategy)
    worker.type = resources_pb2.TaskWorker.WorkerType.WORKER_HUMAN
    worker.user_ids.extend(workers)
    for user_id in workers:
        worker.workers.add().user.id = user_id
    if task.worker_strategy == resources_pb2.TaskWorker.PARTITIONED:
        worker.partitioned_strategy_info.type = resources_pb2.TaskWorkerPartitionedStrategyInfo.EVENLY
        worker.partitioned_strategy_info.workers_per_input = task.workers_per_input
    review = message.review
    review.strategy = resources_pb2.TaskReview.TaskReviewStrategy.ValueType(task.review_strategy)
    review.user_ids.extend(reviewers)
    for user_id in reviewers:
        review.users.add().id = user_id
    if task.review_strategy == resources_pb2.TaskReview.CONSENSUS:
        review.consensus_strategy_info.approval_threshold_labelers = task.approval_threshold
        review.consensus_strategy_info.approval_threshold = task.approval_threshold
    elif task.review_strategy == resources_pb2.TaskReview.MANUAL:
        review.manual_strategy_info.sample_percentage = 1.0
    if metrics is not None:
        m = message.metrics
        m.input_source.inputs_count_estimated = metrics.inputs
        m.work.inputs_count_estimated = metrics.labeled
        m.work.inputs_percent_estimated = metrics.percent(metrics.labeled)
        m.review.inputs_count_estimated = metrics.reviewed
        m.review.inputs_percent_estimated = metrics.percent(metrics.reviewed)
        for user_id in reviewers:
            m.review.inputs_count_estimated_per_reviewer.append(metrics.per_reviewer.get(user_id, 0))
            m.review.inputs_percent_estimated_per_reviewer.append(metrics.percent(metrics.per_reviewer.get(user_id, 0)))
    dict_to_struct(task.metadata, message.metadata, f"task {task.pk}")
    return message


@dataclass
class TaskCounts:
    """What a task's metrics say: inputs in its source, inputs fully labeled, inputs reviewed (approved or
    rejected), and inputs reviewed by each reviewer."""

    inputs: int
    labeled: int
    reviewed: int
    per_reviewer: dict[str, int]

    def percent(self, part: int) -> int:
        return round(100 * part / self.inputs) if self.inputs else 0


def annotation_message(annotation: Annotation, concept_names: dict[str, str]) -> resources_pb2.Annotation:
    """An annotation; prefetch `input` and `task` (their ids are printed)."""
    message = resources_pb2.Annotation(
        id=annotation.annotation_id,
        input_id=annotation.input.input_id,
        user_id=annotation.user_id,
        task_id=annotation.task.task_id if annotation.task else "",
        status=status.make(status.as_code(annotation.status_code), annotation.status_details),
        created_at=timestamp(annotation.created_at),
        modified_at=timestamp(annotation.modified_at),
    )
    message.worker.user.id = annotation.user_id
    json_format.ParseDict(annotation.data, message.data, ignore_unknown_fields=True)
    for concept in message.data.concepts:
        concept.name = concept_names.get(concept.id, concept.id)
    for region in message.data.regions:
        for concept in region.data.concepts:
            concept.name = concept_names.get(concept.id, concept.id)
    dict_to_struct(annotation.annotation_info, message.annotation_info, f"annotation {annotation.pk}")
    if annotation.reviewed_by:
        message.consensus_info.update({"reviewed_by": annotation.reviewed_by})
    return message


def assignment_message(assignment: TaskAssignment, origin: str) -> resources_pb2.TaskAssignment:
    """An assignment with its input; prefetch `input` with INPUT_RELATIONS."""
    message = resources_pb2.TaskAssignment(
        id=assignment.assignment_id,
        created_at=timestamp(assignment.created_at),
        modified_at=timestamp(assignment.modified_at),
        status=status.make(status.as_code(assignment.status_code), assignment.status_details),
        input=input_message(assignment.input, origin),
    )
    message.worker.user.id = assignment.worker_id
    return message
