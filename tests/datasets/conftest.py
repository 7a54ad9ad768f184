"""Fixtures for the datasets pages: an app `shapes` of six pictures (labelled red), and a dataset of it."""

from collections.abc import Callable

import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2

from console.clarifai import ClarifaiClient
from console.connections.models import Connection


def app_ids(app_id: str = "shapes") -> resources_pb2.UserAppIDSet:
    return resources_pb2.UserAppIDSet(user_id="demo", app_id=app_id)


@pytest.fixture
def shapes(make_app: Callable[..., str]) -> str:
    return make_app("shapes", images=6)


@pytest.fixture
def train(api: ClarifaiClient, shapes: str) -> str:
    """A dataset `train` with four of the pictures; image-000 labelled `round` no, image-001 `round` yes."""
    api.call(
        "PostDatasets",
        service_pb2.PostDatasetsRequest(
            user_app_id=app_ids(), datasets=[resources_pb2.Dataset(id="train", description="To <b>train</b> on")]
        ),
    )
    api.call(
        "PostDatasetInputs",
        service_pb2.PostDatasetInputsRequest(
            user_app_id=app_ids(),
            dataset_id="train",
            dataset_inputs=[
                resources_pb2.DatasetInput(input=resources_pb2.Input(id=f"image-{n:03}")) for n in range(4)
            ],
        ),
    )
    labels = []
    for n, value in ((0, 0.0), (1, 1.0)):
        item = resources_pb2.Input(id=f"image-{n:03}")
        item.data.concepts.append(resources_pb2.Concept(id="round", value=value))
        labels.append(item)
    api.call("PatchInputs", service_pb2.PatchInputsRequest(user_app_id=app_ids(), inputs=labels, action="merge"))
    return "train"


def make_version(api: ClarifaiClient, version_id: str = "v1", dataset_id: str = "train") -> None:
    api.call(
        "PostDatasetVersions",
        service_pb2.PostDatasetVersionsRequest(
            user_app_id=app_ids(),
            dataset_id=dataset_id,
            dataset_versions=[resources_pb2.DatasetVersion(id=version_id)],
        ),
    )


def base(local: Connection) -> str:
    return f"/c/{local.pk}/apps/shapes/datasets/"
