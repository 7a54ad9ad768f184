"""Stored rows as clarifai-grpc messages: what the handlers put into responses."""

from datetime import datetime

from clarifai_grpc.grpc.api import resources_pb2
from google.protobuf import timestamp_pb2

from console.localapi import media, status
from console.localapi.handlers.common import dict_to_struct
from console.localapi.models import App, Concept, Dataset, Input, User

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


def dataset_message(dataset: Dataset) -> resources_pb2.Dataset:
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
