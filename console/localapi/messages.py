"""Stored rows as clarifai-grpc messages: what the handlers put into responses."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.wrappers_pb2 import UInt64Value

from console.localapi import media, status
from console.localapi.handlers.common import dict_to_struct
from console.localapi.models import App, Concept, Dataset, DatasetVersion, DatasetVersionExport, Input, User

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
