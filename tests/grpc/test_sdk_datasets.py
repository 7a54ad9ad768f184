"""The SDK's dataset flows over gRPC with a real Celery worker process (see tests/localapi/test_worker.py):
upload_dataset waits on GetInputsAddJob while the worker processes the pictures, then the version and its
export are built by the worker and the archive is read back by the SDK, pictures included."""

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clarifai.client.user import User  # type: ignore[import-untyped]
from clarifai.datasets.upload.base import ClarifaiDataLoader  # type: ignore[import-untyped]
from clarifai.datasets.upload.features import VisualClassificationFeatures  # type: ignore[import-untyped]
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Input
from tests.images import png
from tests.localapi.test_worker import broker, start_worker  # noqa: F401 (fixtures used here)

pytestmark = pytest.mark.worker

Worker = Callable[..., subprocess.Popen[bytes]]
COLOURS = ["red", "green", "blue", "yellow", "purple"]


class Pictures(ClarifaiDataLoader):  # type: ignore[misc]
    """50 small pictures in five colours, each labelled with its colour, as a developer's loader gives them."""

    @property
    def task(self) -> str:
        return "visual_classification"

    def __len__(self) -> int:
        return 50

    def __getitem__(self, index: int) -> Any:
        colour = COLOURS[index % len(COLOURS)]
        return VisualClassificationFeatures(
            image_path=f"pictures/{index:02}.png",
            labels=[colour],
            id=f"pic-{index:02}",
            image_bytes=png(32 + index, 24, colour),
        )


def test_the_sdk_uploads_a_dataset_versions_it_and_reads_its_export_back(
    grpc_url: str,
    token: str,
    main_app: App,
    start_worker: Worker,  # noqa: F811
    tmp_path: Path,
) -> None:
    start_worker()
    app = User(user_id="alice", pat=token, base_url=grpc_url).app(app_id="main")
    dataset = app.create_dataset(dataset_id="colours")
    assert dataset.id == "colours"

    dataset.upload_dataset(dataloader=Pictures(), batch_size=32)
    # The SDK waited on GetInputsAddJob until the worker had processed them, so it deleted none as failed.
    assert Input.objects.filter(app=main_app, status_code=codes.INPUT_DOWNLOAD_SUCCESS).count() == 50
    assert Input.objects.filter(app=main_app).exclude(inputs_add_job_id=None).count() == 50
    listed = list(app.inputs().list_inputs(dataset_id="colours"))
    assert sorted(item.id for item in listed) == [
        f"colours-pic-{n:02}" for n in range(50)
    ]  # the SDK prefixes the dataset
    assert {c.id for c in app.list_concepts()} == set(COLOURS)

    version = dataset.create_version(description="first")
    assert version.version.id
    saved = tmp_path / "export.zip"
    version.export(save_path=str(saved))
    with zipfile.ZipFile(saved) as archive:
        pictures = sorted(name for name in archive.namelist() if name.endswith(".png"))
        assert len(pictures) == 50
        first = archive.read(pictures[0])
    assert first.startswith(b"\x89PNG")
