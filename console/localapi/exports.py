"""Archives of dataset versions: what a worker writes, and the download of a finished one.

The CLARIFAI_DATA_PROTOBUF archive is what the official SDK's DatasetExportReader reads
(clarifai/datasets/export/inputs_annotations.py): a zip whose `mimetype` entry says
`application/x.clarifai-data+protobuf`, beside entries `all/batch-NNNNN_n{count}`, each a serialized
`InputBatch` of `count` inputs (the reader sums the `_n` suffixes for its length). CLARIFAI_DATA_JSON is the
same layout with `application/x.clarifai-data+json` and each batch as the API's JSON of an `InputBatch`.
Inputs carry their labels and metadata as they were when the version was made, and hosted URLs for
pictures, which need the `Authorization: Key` header like every hosted picture.

An archive lives in the default storage at `localapi/<app pk>/exports/<key>.zip` and is downloaded from
`/v2/exports/<key>.zip` by its app's owner, with a token that may read datasets.
"""

import io
import json
import re
import zipfile
from itertools import batched

from clarifai_grpc.grpc.api import resources_pb2

from console.localapi import media, status, wire
from console.localapi.errors import ApiError
from console.localapi.handlers.common import dict_to_struct
from console.localapi.messages import timestamp
from console.localapi.models import DatasetVersionExport, DatasetVersionInput, Input, Token

PROTOBUF = resources_pb2.DatasetVersionExportFormat.CLARIFAI_DATA_PROTOBUF
JSON = resources_pb2.DatasetVersionExportFormat.CLARIFAI_DATA_JSON
MIMETYPES: dict[int, bytes] = {
    PROTOBUF: b"application/x.clarifai-data+protobuf",
    JSON: b"application/x.clarifai-data+json",
}
FORMATS = set(MIMETYPES)
BATCH_SIZE = 128
PATH = re.compile(r"^/v2/exports/(?P<key>[0-9a-f]{32})\.zip$")


def storage_name(app_pk: int, key: str) -> str:
    return f"{media.app_folder(app_pk)}/exports/{key}.zip"


def snapshot_input(row: DatasetVersionInput, app_pk: int, dataset_id: str, origin: str) -> resources_pb2.Input:
    """An input of a version as the export shows it: as it was when the version was made."""
    message = resources_pb2.Input(
        id=row.input_id,
        created_at=timestamp(row.input_created_at),
        status=status.make(status.INPUT_SUCCESS),
        dataset_ids=[dataset_id],
    )
    data = message.data
    if row.kind == Input.IMAGE:
        if row.source_url:
            data.image.url = row.source_url
        if row.media_key:
            data.image.hosted.CopyFrom(media.hosted_url(origin, Input(app_id=app_pk, media_key=row.media_key)))
        data.image.image_info.CopyFrom(
            resources_pb2.ImageInfo(
                width=row.width or 0, height=row.height or 0, format=row.image_format, color_mode=row.color_mode
            )
        )
    else:
        if row.source_url:
            data.text.url = row.source_url
        data.text.raw = row.text
    for concept_id, name, value in row.concepts:
        data.concepts.append(resources_pb2.Concept(id=concept_id, name=name, value=value))
    dict_to_struct(row.metadata, data.metadata, f"input {row.input_id} of dataset version {row.version_id}")
    return message


def build_archive(export: DatasetVersionExport) -> bytes:
    """The export's zip, in memory: inputs are references (hosted URLs), not picture bytes, so even a
    large version makes an archive of a few megabytes."""
    version = export.version
    app_pk, dataset_id = version.dataset.app_id, version.dataset.dataset_id
    rows = DatasetVersionInput.objects.filter(version=version).order_by("id").iterator(chunk_size=1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPES[export.format], compress_type=zipfile.ZIP_STORED)
        for number, chunk in enumerate(batched(rows, BATCH_SIZE)):
            batch = resources_pb2.InputBatch(
                inputs=[snapshot_input(row, app_pk, dataset_id, export.origin) for row in chunk]
            )
            if export.format == PROTOBUF:
                content = batch.SerializeToString()
            else:
                content = json.dumps(wire.message_to_dict(batch), separators=(",", ":")).encode()
            archive.writestr(f"all/batch-{number:05}_n{len(chunk)}", content)
    return buffer.getvalue()


def download(token: Token, path: str) -> tuple[bytes, str]:
    """A finished archive and a file name for it, for a token that reaches the app (its owner's, or a
    collaborator's) and may read datasets."""
    match = PATH.match(path)
    assert match is not None
    export = (
        DatasetVersionExport.objects.filter(key=match["key"], version__dataset__app__deleted=False)
        .select_related("version__dataset__app")
        .first()
    )
    if export is None or export.status_code != status.EXPORT_SUCCESS:
        raise ApiError(status.CONN_DOES_NOT_EXIST, details="There is no finished export at this URL.")
    dataset = export.version.dataset
    if not token.reaches(dataset.app, "Datasets:Get"):
        raise ApiError(status.CONN_INSUFFICIENT_SCOPES, details="This token cannot read this export.")
    if not token.allows("Datasets:Get"):
        raise ApiError(status.CONN_INSUFFICIENT_SCOPES, details="Downloading an export needs the scope Datasets:Get.")
    data = media.read(storage_name(dataset.app_id, export.key))
    return data, f"{dataset.dataset_id}-{export.version.version_id}.zip"
